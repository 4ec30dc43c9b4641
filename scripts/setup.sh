#!/usr/bin/env bash
# Installs everything the stack needs into .venv and builds the colcon workspace.
# Idempotent: a second run with unchanged requirements and package manifests takes seconds.
#   scripts/setup.sh            # install + build
#   scripts/setup.sh --bench    # also the trackers the benchmarks compare against
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-"torch==2.14.1 torchvision==0.29.1"}
WITH_BENCH=0
[[ "${1:-}" == "--bench" ]] && WITH_BENCH=1
log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }

"$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required (the ROS 2 wheels are cp311)"'
if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating virtual environment in $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip wheel
fi
# Keep colcon from crawling into the venv when the repo root is the workspace.
touch "$VENV/COLCON_IGNORE"
# An empty local_setup marks the venv as an ament prefix, so colcon does not warn about it.
touch "$VENV"/local_setup.{sh,bash,zsh}
PIP=("$VENV/bin/pip" install -q --disable-pip-version-check)
export _ROS_WHEELS_BOOTSTRAP_COMPLETE=1  # pip's own python must not re-exec

stamp_of() { cat "$@" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16; }
DEPS_STAMP="$VENV/.deps-$(stamp_of "$ROOT/requirements.txt")"
if [[ ! -f "$DEPS_STAMP" ]]; then
  log "installing $TORCH_SPEC (large; from local disk where available)"
  "${PIP[@]}" $TORCH_SPEC
  log "installing pinned requirements (ROS 2 wheels, vision, evaluation)"
  "${PIP[@]}" -r "$ROOT/requirements.txt"
  rm -f "$VENV"/.deps-* && touch "$DEPS_STAMP"
fi
if [[ $WITH_BENCH == 1 ]]; then
  BENCH_STAMP="$VENV/.bench-$(stamp_of "$ROOT/requirements-bench.txt")"
  if [[ ! -f "$BENCH_STAMP" ]]; then
    log "installing benchmark comparison trackers"
    "${PIP[@]}" -r "$ROOT/requirements-bench.txt"
    # boxmot pulls the GUI opencv-python, whose cv2 overwrites the headless one: restore it.
    "${PIP[@]}" --force-reinstall --no-deps "$(grep '^opencv-python-headless==' "$ROOT/requirements.txt")"
    rm -f "$VENV"/.bench-* && touch "$BENCH_STAMP"
  fi
fi

# The ROS wheels' cmake exports hard-code the build machine's Python and numpy include dirs.
PY_INCLUDE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
NP_INCLUDE=$("$VENV/bin/python" -c 'import numpy; print(numpy.get_include())')
[[ -f "$PY_INCLUDE/Python.h" ]] || { log "Python headers missing ($PY_INCLUDE/Python.h): apt-get install python3-dev"; exit 1; }
if grep -rlq /opt/python/cp311-cp311 "$VENV/share" 2>/dev/null; then
  log "rewriting /opt/python paths in the ROS wheels' cmake exports"
  grep -rlZ /opt/python/cp311-cp311 "$VENV/share" | xargs -0 sed -i \
    -e "s#/opt/python/cp311-cp311/include/python3.11#$PY_INCLUDE#g" \
    -e "s#/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include#$NP_INCLUDE#g" \
    -e "s#/opt/python/cp311-cp311#$VENV#g"
fi

# shellcheck source=env.sh
set +u; source "$ROOT/scripts/env.sh"; set -u

# Build the workspace when a manifest, message or setup file changed.
BUILD_STAMP="$ROOT/install/.build-$( (cd "$ROOT" && find perception_* fallback -type f \
  \( -name package.xml -o -name CMakeLists.txt -o -name '*.msg' -o -name setup.py -o -name setup.cfg \) \
  -print0 | sort -z | xargs -0 cat; cat "$DEPS_STAMP" "${BASH_SOURCE[0]}" 2>/dev/null) | sha256sum | cut -c1-16)"
if [[ ! -f "$BUILD_STAMP" ]]; then
  cd "$ROOT"
  COLCON=("$VENV/bin/colcon" --log-base "$ROOT/log" build --symlink-install
          --build-base "$ROOT/build" --install-base "$ROOT/install")
  CMAKE_ARGS=(--cmake-args -DBUILD_TESTING=OFF -DPython3_EXECUTABLE="$VENV/bin/python")
  if "$VENV/bin/python" -c 'from ament_index_python.packages import get_package_prefix as g; g("vision_msgs")' 2>/dev/null \
     && [[ ! -d "$ROOT/install/vision_msgs" ]]; then
    log "using the installed vision_msgs"
  else
    log "no vision_msgs in this environment: building the fallback definitions in fallback/vision_msgs"
    "${COLCON[@]}" --paths fallback/vision_msgs "${CMAKE_ARGS[@]}"
    set +u; source "$ROOT/install/setup.bash"; set -u
  fi
  log "colcon build"
  "${COLCON[@]}" --base-paths perception_msgs perception_maskrcnn perception_deepsort perception_bringup "${CMAKE_ARGS[@]}"
  rm -f "$ROOT"/install/.build-* && touch "$BUILD_STAMP"
fi
log "ready: source scripts/env.sh"
