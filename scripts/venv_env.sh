# Environment of the project's venv with the ROS 2 wheels. Sourced by scripts/env.sh and,
# through the venv's local_setup.* that scripts/setup.sh writes, by `source install/setup.bash`.
# Expects PERCEPTION_VENV (absolute path of the venv).
_venv="${PERCEPTION_VENV:?PERCEPTION_VENV must name the venv}"
export VIRTUAL_ENV="$_venv"
case ":$PATH:" in *":$_venv/bin:"*) ;; *) export PATH="$_venv/bin:$PATH" ;; esac
# What ros_wheels_bootstrapper would do by re-executing python: put the wheels' bundled
# libraries on the loader path once, here, so no process is re-executed.
_libs="$_venv/lib"
for _d in "$_venv"/lib/python3.11/site-packages/ros_*.libs; do [ -d "$_d" ] && _libs="$_libs:$_d"; done
case ":${LD_LIBRARY_PATH:-}:" in *":$_venv/lib:"*) ;; *) export LD_LIBRARY_PATH="$_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ;; esac
export _ROS_WHEELS_BOOTSTRAP_COMPLETE=1
case ":${AMENT_PREFIX_PATH:-}:" in *":$_venv:"*) ;; *) export AMENT_PREFIX_PATH="$_venv${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}" ;; esac
case ":${CMAKE_PREFIX_PATH:-}:" in *":$_venv:"*) ;; *) export CMAKE_PREFIX_PATH="$_venv${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}" ;; esac
export RMW_IMPLEMENTATION="${RMW_IMPLEMENTATION:-rmw_fastrtps_cpp}"
# Large images over Fast DDS: a shared-memory segment that holds 720p frames and larger UDP
# buffers (measured in benchmarks/bench_dds.py; see README). An explicit user choice wins.
if [ -z "${FASTDDS_DEFAULT_PROFILES_FILE:-}" ] && [ -z "${FASTDDS_BUILTIN_TRANSPORTS:-}" ]; then
  export FASTDDS_DEFAULT_PROFILES_FILE="$(cd "$_venv/.." && pwd)/config/fastdds_large_images.xml"
fi
unset _venv _libs _d
