#!/usr/bin/env bash
# Regenerates requirements.lock from requirements.in: every package, transitive ones included,
# pinned with its hashes. Run it after editing requirements.in (or to take upstream updates on
# purpose: `scripts/lock.sh --upgrade`), then run scripts/test.sh and commit both files.
# Versions already in the lock are kept unless the .in file or --upgrade asks otherwise.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="$ROOT/.cache/lock-tools"
UV_VERSION=0.13.9
if [[ ! -x "$TOOLS/bin/uv" ]] || [[ "$("$TOOLS/bin/uv" --version)" != "uv $UV_VERSION"* ]]; then
  python3 -m venv "$TOOLS"
  "$TOOLS/bin/pip" install -q --disable-pip-version-check "uv==$UV_VERSION"
fi
cd "$ROOT"
# The lock's platform: CPython 3.11 on Linux x86_64 (the ROS 2 wheels are cp311).
# The GUI opencv-python that deep-sort-realtime, trackeval and boxmot declare is left out: the
# lock installs with --no-deps, so opencv-python-headless is the only cv2 in the venv.
"$TOOLS/bin/uv" pip compile requirements.in --quiet --generate-hashes \
  --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
  --no-emit-package opencv-python --no-emit-package opencv-contrib-python \
  --custom-compile-command scripts/lock.sh -o requirements.lock "$@"
echo "requirements.lock: $(grep -cE '^[A-Za-z0-9]' requirements.lock) packages pinned with hashes"
