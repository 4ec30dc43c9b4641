"""Detector and tracker on a camera topic, optionally with RViz.

    ros2 launch launch/tracking.launch.py camera_topic:=/camera/image_raw \
        backend:=maskrcnn weights:=/path/to/maskrcnn.pth device:=cuda rviz:=true

Several cameras, one detector + tracker pair each in the camera's namespace (/front/tracks, ...):

    ros2 launch launch/tracking.launch.py cameras:=front:/front/image_raw,rear:/rear/image_raw

The graph itself (executables, node names, remappings, parameter overrides) comes from
perception_bringup.graph_spec, the same description `perception-run-graph` runs without ROS
launch; both read the same YAML parameter file.
"""
import shutil
import tempfile

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction, RegisterEventHandler
from launch.event_handlers import OnShutdown
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node

from perception_bringup import graph_spec, profiles

ARGUMENTS = (
    ('camera_topic', graph_spec.DEFAULT_IMAGE_TOPIC, 'Camera image topic (sensor_msgs/Image; '
     '<topic>/compressed with input:=compressed in the config).'),
    ('cameras', '', 'Several cameras: name:topic,name:topic (e.g. front:/front/image_raw,'
     'rear:/rear/image_raw; a bare name is /<name>/image_raw): one detector_node + tracker_node '
     'pair per camera in namespace /<name>. Empty = one camera on camera_topic, no namespace.'),
    ('backend', '', 'Detector backend: maskrcnn, maskrcnn_v2, yolo, hog, auto; empty = config.'),
    ('weights', '', 'Detector weights (file, torchvision or ultralytics name); empty = config.'),
    ('device', '', 'auto | cpu | cuda | cuda:N for detector and embedder; empty = config.'),
    ('config', str(graph_spec.DEFAULT_CONFIG), 'ROS parameter file of detector_node and tracker_node.'),
    ('profile', 'auto', "Parameter profile laid over config: auto (the one measured for the "
     "detector's weights, if any), none, or a file."),
    ('use_sim_time', 'false', 'Follow /clock (bag playback with --clock).'),
    ('rviz', 'false', 'Start rviz2 with config/tracking.rviz.'),
    ('autostart', 'true', 'Bring detector_node and tracker_node (managed nodes) to active; '
     'false = leave them unconfigured for an external lifecycle manager.'),
)


def _is_true(text):
    """Launch-argument boolean."""
    return text.strip().lower() in ('true', '1', 'yes', 'on')


def _nodes(context):
    """Node actions of graph_spec.graph() for the resolved launch arguments."""
    value = {name: LaunchConfiguration(name).perform(context) for name, _, _ in ARGUMENTS}
    specs = graph_spec.graph(value['camera_topic'], value['backend'], value['weights'],
                             value['device'], _is_true(value['use_sim_time']), _is_true(value['rviz']),
                             _is_true(value['autostart']), value['cameras'])
    # The same parameters the demo and the tools use: the profile of the weights laid over.
    config = str(profiles.parameters_for(value['config'], {k: value[k] for k in
                                                           ('backend', 'weights', 'device')},
                                         value['profile']))
    if not value['cameras']:
        return [_action(spec, config) for spec in specs]
    # Namespaced nodes get their parameters resolved from the file (graph_spec.node_params_file),
    # written to a folder that lives as long as the launch: respawned nodes read it again.
    params_dir = tempfile.mkdtemp(prefix='perception_params_')
    try:
        actions = [_action(spec, config, params_dir) for spec in specs]
    except BaseException:
        shutil.rmtree(params_dir, ignore_errors=True)
        raise
    def remove(event, context):
        shutil.rmtree(params_dir, ignore_errors=True)
    return actions + [RegisterEventHandler(OnShutdown(on_shutdown=remove))]


def _action(spec, config, params_dir=None):
    """A launch_ros Node (LifecycleNode for managed nodes; respawning ones with the delay)."""
    files = [str(graph_spec.node_params_file(spec, config, params_dir))] if spec.uses_params_file else []
    kwargs = dict(package=spec.package, executable=spec.executable, name=spec.name,
                  parameters=files + [spec.parameters],
                  remappings=list(spec.remappings), arguments=list(spec.arguments), output='screen')
    if spec.respawn:
        kwargs.update(respawn=True, respawn_delay=graph_spec.RESPAWN_DELAY_S)
    if spec.managed:
        return LifecycleNode(namespace=spec.namespace, **kwargs)
    if spec.namespace:
        kwargs['namespace'] = spec.namespace
    return Node(**kwargs)


def generate_launch_description():
    """Launch arguments, then the graph's nodes."""
    return LaunchDescription(
        [DeclareLaunchArgument(name, default_value=default, description=description)
         for name, default, description in ARGUMENTS] + [OpaqueFunction(function=_nodes)])
