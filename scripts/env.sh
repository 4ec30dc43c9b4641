# Source this file (bash/zsh) for a shell with the project's venv, ROS 2 and workspace:
#   source scripts/env.sh
_PERCEPTION_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)
_venv="$_PERCEPTION_ROOT/.venv"
export VIRTUAL_ENV="$_venv"
case ":$PATH:" in *":$_venv/bin:"*) ;; *) export PATH="$_venv/bin:$PATH" ;; esac
# What the ros_wheels_bootstrapper would do by re-executing python: put the wheels' bundled
# libraries on the loader path once, here, so no process is re-executed.
_site="$_venv/lib/python3.11/site-packages"
_libs="$_venv/lib"
for _d in "$_site"/ros_*.libs; do [[ -d "$_d" ]] && _libs="$_libs:$_d"; done
case ":${LD_LIBRARY_PATH:-}:" in *":$_venv/lib:"*) ;; *) export LD_LIBRARY_PATH="$_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ;; esac
export _ROS_WHEELS_BOOTSTRAP_COMPLETE=1
case ":${AMENT_PREFIX_PATH:-}:" in *":$_venv:"*) ;; *) export AMENT_PREFIX_PATH="$_venv${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}" ;; esac
case ":${CMAKE_PREFIX_PATH:-}:" in *":$_venv:"*) ;; *) export CMAKE_PREFIX_PATH="$_venv${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}" ;; esac
export RMW_IMPLEMENTATION=${RMW_IMPLEMENTATION:-rmw_fastrtps_cpp}
# Large images over Fast DDS: TCP + shared memory instead of UDP fragments (see README).
export FASTDDS_BUILTIN_TRANSPORTS=${FASTDDS_BUILTIN_TRANSPORTS:-LARGE_DATA}
export PYTHONUNBUFFERED=1
if [[ -f "$_PERCEPTION_ROOT/install/setup.bash" ]]; then
  # shellcheck disable=SC1091
  source "$_PERCEPTION_ROOT/install/setup.bash"
fi
# ament_python installs console scripts under lib/<package> (for `ros2 run`); put ours on PATH too.
for _d in "$_PERCEPTION_ROOT"/install/perception_*/lib/perception_*; do
  case ":$PATH:" in *":$_d:"*) ;; *) [[ -d "$_d" ]] && export PATH="$_d:$PATH" ;; esac
done
unset _venv _site _libs _d
