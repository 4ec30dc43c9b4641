"""The node graph, described once for `launch/tracking.launch.py` and `perception-run-graph`.

Pure data (no ROS imports): which executables run, under which names and namespaces, with
which remappings and parameter overrides on top of the YAML parameter file. Several cameras
(``parse_cameras``) give one detector + tracker pair per camera, each in the camera's namespace
(``/front/detector_node`` publishing ``/front/detections``, ...), all from the same file.
"""
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from perception_ros_glue.param_file import read_node_parameters


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
# Seconds between a node's death and its restart (launch `respawn_delay`, run-graph alike): short,
# the tracker coasts meanwhile; a node failing at once still restarts only every start-up time + 1 s.
RESPAWN_DELAY_S = 1.0
# Topics the graph publishes (relative names resolve in the nodes' namespace, here the root).
OUTPUT_TOPICS = ('/detections', '/detections/masks', '/detections/image',
                 '/tracks', '/tracks/detections', '/tracks/image')


# A camera name is a namespace: one ROS name token.
_CAMERA_NAME = re.compile(r'[A-Za-z][A-Za-z0-9_]*')


@dataclass(frozen=True)
class Camera:
    """One camera of the graph: its namespace ('' = none) and its image topic."""

    name: str
    topic: str


def parse_cameras(text, default_topic=DEFAULT_IMAGE_TOPIC):
    """Cameras of ``name:topic,name:topic`` (a bare ``name`` is ``/name/image_raw``); empty text =
    one camera without namespace on ``default_topic``. ValueError says what is wrong."""
    text = (text or '').strip()
    if not text:
        return (Camera('', default_topic),)
    cameras = []
    for item in text.split(','):
        name, _, topic = (part.strip() for part in item.strip().partition(':'))
        if not _CAMERA_NAME.fullmatch(name):
            raise ValueError(f'cameras: {item.strip()!r}: a camera is name:topic with a name of '
                             'letters, digits and _ (starting with a letter), e.g. '
                             'front:/front/image_raw')
        if any(c.name == name for c in cameras):
            raise ValueError(f'cameras: {name!r} is given twice')
        cameras.append(Camera(name, topic or f'/{name}/image_raw'))
    topics = [c.topic for c in cameras]
    if len(set(topics)) < len(topics):
        raise ValueError(f'cameras: two cameras on the same topic ({", ".join(topics)})')
    return tuple(cameras)


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
    namespace: str = ''  # '' or '/front': the node is /front/<name>, its relative topics too

    @property
    def full_name(self):
        """The node's fully qualified name, e.g. ``/front/detector_node``."""
        return f'{self.namespace}/{self.name}'


def camera_remappings(image_topic):
    """Remap the nodes' `image` (raw) and `image/compressed` inputs to the camera's topics."""
    return (('image', image_topic), ('image/compressed', f'{image_topic}/compressed'))


def graph(image_topic=DEFAULT_IMAGE_TOPIC, backend=None, weights=None, device=None,
          use_sim_time=False, rviz=False, autostart=True, cameras=None):
    """The NodeSpecs of the tracking graph; None/'' options keep the parameter file's values.

    detector_node and tracker_node are managed nodes that respawn; ``autostart`` False leaves
    them unconfigured for an external lifecycle manager. ``cameras``: ``parse_cameras`` text or
    Cameras; one detector + tracker pair per camera (default: one, on ``image_topic``).
    """
    if cameras is None or isinstance(cameras, str):
        cameras = parse_cameras(cameras, image_topic)
    detector_params = {k: v for k, v in (('backend', backend), ('weights', weights),
                                          ('device', device)) if v}
    tracker_params = {'device': device} if device else {}
    for params in (detector_params, tracker_params):
        params['use_sim_time'] = bool(use_sim_time)
        params['autostart'] = bool(autostart)
    nodes = []
    for camera in cameras:
        namespace = f'/{camera.name}' if camera.name else ''
        nodes += [
            NodeSpec('perception_maskrcnn', 'detector_node', 'detector_node',
                     camera_remappings(camera.topic), dict(detector_params), managed=True,
                     respawn=True, namespace=namespace),
            NodeSpec('perception_deepsort', 'tracker_node', 'tracker_node',
                     camera_remappings(camera.topic), dict(tracker_params), managed=True,
                     respawn=True, namespace=namespace),
        ]
    if rviz:
        nodes.append(NodeSpec('rviz2', 'rviz2', 'rviz2', (), {'use_sim_time': bool(use_sim_time)},
                              ('-d', str(RVIZ_CONFIG)), uses_params_file=False))
    return nodes


def node_params_file(spec, params_file, directory):
    """The parameter file to give ``spec``'s node: ``params_file`` itself for a node without
    namespace; for a namespaced one, a file written in ``directory`` with the parameters
    ``params_file`` gives it (param_file rules: ``/**``, ``/**/detector_node``, a plain
    ``detector_node`` key, ``/front/detector_node``) under its full name. rclpy matches only
    ``/**`` and exact full names, so a file written for one camera applies to every camera."""
    if not spec.namespace or not spec.uses_params_file:
        return Path(params_file)
    values = read_node_parameters(params_file, spec.name, namespace=spec.namespace)
    path = Path(directory) / f'{spec.full_name.strip("/").replace("/", "__")}.yaml'
    path.write_text(yaml.safe_dump({spec.full_name: {'ros__parameters': values}}))
    return path


def ros_args(spec, params_file):
    """`--ros-args` command-line arguments that give `spec` its name, parameters and remappings."""
    args = ['--ros-args', '-r', f'__node:={spec.name}']
    if spec.namespace:
        args += ['-r', f'__ns:={spec.namespace}']
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
