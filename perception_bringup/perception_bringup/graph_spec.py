"""The node graph, described once for `launch/tracking.launch.py` and `perception-run-graph`.

Pure data (no ROS imports): which executables run, under which names, with which remappings
and parameter overrides on top of the YAML parameter file.
"""
from dataclasses import dataclass, field
from pathlib import Path



def _config_dir() -> Path:
    """config/ of the source tree (symlink install, tests) or else of the installed share folder."""
    source = Path(__file__).resolve().parents[2] / 'config'
    if source.is_dir():
        return source
    from ament_index_python.packages import get_package_share_directory  # plain install
    return Path(get_package_share_directory('perception_bringup')) / 'config'


CONFIG_DIR = _config_dir()
DEFAULT_CONFIG = CONFIG_DIR / 'tracking.yaml'
RVIZ_CONFIG = CONFIG_DIR / 'tracking.rviz'
DEFAULT_IMAGE_TOPIC = '/camera/image_raw'
# Seconds between a node's death and its restart (launch `respawn_delay`, run-graph alike).
RESPAWN_DELAY_S = 2.0
# Topics the graph publishes (relative names resolve in the nodes' namespace, here the root).
OUTPUT_TOPICS = ('/detections', '/detections/masks', '/detections/image',
                 '/tracks', '/tracks/detections', '/tracks/image')


@dataclass(frozen=True)
class NodeSpec:
    """One process of the graph: what `ros2 run package executable --ros-args ...` would start."""

    package: str
    executable: str
    name: str
    remappings: tuple = ()
    parameters: dict = field(default_factory=dict)
    arguments: tuple = ()
    uses_params_file: bool = True
    managed: bool = False  # a lifecycle node (launch_ros LifecycleNode)
    respawn: bool = False  # restarted after RESPAWN_DELAY_S when it dies


def camera_remappings(image_topic):
    """Remap the nodes' `image` (raw) and `image/compressed` inputs to the camera's topics."""
    return (('image', image_topic), ('image/compressed', f'{image_topic}/compressed'))


def graph(image_topic=DEFAULT_IMAGE_TOPIC, backend=None, weights=None, device=None,
          use_sim_time=False, rviz=False, autostart=True):
    """The NodeSpecs of the tracking graph; None/'' options keep the parameter file's values.

    detector_node and tracker_node are managed nodes that respawn; ``autostart`` False leaves
    them unconfigured for an external lifecycle manager.
    """
    detector_params = {k: v for k, v in (('backend', backend), ('weights', weights),
                                          ('device', device)) if v}
    tracker_params = {'device': device} if device else {}
    for params in (detector_params, tracker_params):
        params['use_sim_time'] = bool(use_sim_time)
        params['autostart'] = bool(autostart)
    nodes = [
        NodeSpec('perception_maskrcnn', 'detector_node', 'detector_node',
                 camera_remappings(image_topic), detector_params, managed=True, respawn=True),
        NodeSpec('perception_deepsort', 'tracker_node', 'tracker_node',
                 camera_remappings(image_topic), tracker_params, managed=True, respawn=True),
    ]
    if rviz:
        nodes.append(NodeSpec('rviz2', 'rviz2', 'rviz2', (), {'use_sim_time': bool(use_sim_time)},
                              ('-d', str(RVIZ_CONFIG)), uses_params_file=False))
    return nodes


def ros_args(spec, params_file):
    """`--ros-args` command-line arguments that give `spec` its name, parameters and remappings."""
    args = ['--ros-args', '-r', f'__node:={spec.name}']
    if spec.uses_params_file:
        args += ['--params-file', str(params_file)]
    for name, value in spec.parameters.items():
        args += ['-p', f'{name}:={_param_text(value)}']
    for source, target in spec.remappings:
        args += ['-r', f'{source}:={target}']
    return args


def _param_text(value):
    """A parameter value as `-p` parses it (YAML): booleans lower case, strings quoted."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)
