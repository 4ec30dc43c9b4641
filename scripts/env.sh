# Source this file (bash/zsh) for a shell with the project's venv, ROS 2 and workspace:
#   source scripts/env.sh
# (`source install/setup.bash` gives the same ROS environment; this adds our tools to PATH.)
_PERCEPTION_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)
PERCEPTION_VENV="$_PERCEPTION_ROOT/.venv" . "$_PERCEPTION_ROOT/scripts/venv_env.sh"
export PYTHONUNBUFFERED=1
# The weights scripts/setup.sh fetches: `backend: auto` finds them from any working directory.
export PERCEPTION_WEIGHTS_DIR="${PERCEPTION_WEIGHTS_DIR:-$_PERCEPTION_ROOT/weights}"
if [ -f "$_PERCEPTION_ROOT/install/setup.bash" ]; then
  # shellcheck disable=SC1091
  . "$_PERCEPTION_ROOT/install/setup.bash"
fi
# ament_python installs console scripts under lib/<package> (for `ros2 run`); put ours on PATH too.
for _d in "$_PERCEPTION_ROOT"/install/perception_*/lib/perception_*; do
  case ":$PATH:" in *":$_d:"*) ;; *) [ -d "$_d" ] && export PATH="$_d:$PATH" ;; esac
done
unset _d
