"""launch/tracking.launch.py checked where launch_ros is not installed.

It parses; its arguments are the documented ones; the graph it starts (graph_spec, shared with
perception-run-graph) names installed executables; every parameter it sets and every key of
config/*.yaml is declared by the running node (asked over its ListParameters service); every
file it names exists.
"""
import ast
import os
import shutil
from pathlib import Path

import pytest
import yaml
from ament_index_python.packages import PackageNotFoundError, get_package_prefix
from rcl_interfaces.srv import GetParameters, ListParameters
from rclpy.parameter import parameter_dict_from_yaml_file, parameter_value_to_python

from perception_bringup import graph_spec
from perception_ros_glue.ros_testing import NodeProcess, close_test_node, make_test_node

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_FILE = ROOT / 'launch' / 'tracking.launch.py'
CONFIGS = sorted((ROOT / 'config').glob('*.yaml'))
ARGUMENTS = {'camera_topic', 'backend', 'weights', 'device', 'config', 'profile', 'use_sim_time',
             'rviz', 'autostart', 'cameras'}
# What the launch file passes on top of the YAML (the launch arguments that map to parameters).
OVERRIDES = dict(backend='hog', weights='', device='cpu', use_sim_time=True, autostart=True)


@pytest.fixture(scope='module')
def tree():
    """The launch file's syntax tree."""
    return ast.parse(LAUNCH_FILE.read_text(), str(LAUNCH_FILE))


def test_launch_file_declares_the_documented_arguments_and_uses_the_shared_graph(tree):
    functions = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert 'generate_launch_description' in functions
    arguments = next(n.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
                     and any(getattr(t, 'id', None) == 'ARGUMENTS' for t in n.targets))
    assert {e.elts[0].value for e in arguments.elts} == ARGUMENTS
    # Every graph_spec attribute the launch file uses exists (no stale names).
    used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
            and getattr(n.value, 'id', None) == 'graph_spec'}
    assert {'graph', 'DEFAULT_CONFIG', 'DEFAULT_IMAGE_TOPIC'} <= used
    assert all(hasattr(graph_spec, name) for name in used)
    imports = {(n.module, a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert ('perception_bringup', 'graph_spec') in imports and ('launch_ros.actions', 'Node') in imports


def test_every_executable_the_launch_file_starts_is_installed():
    for spec in graph_spec.graph():
        path = Path(get_package_prefix(spec.package)) / 'lib' / spec.package / spec.executable
        assert os.access(path, os.X_OK), f'{spec.executable} of {spec.package} not installed at {path}'


def test_rviz_node_and_its_config():
    spec = graph_spec.graph(rviz=True)[-1]
    assert spec.arguments == ('-d', str(graph_spec.RVIZ_CONFIG))
    rviz = yaml.safe_load(graph_spec.RVIZ_CONFIG.read_text())
    topics = {d['Topic']['Value'] for d in rviz['Visualization Manager']['Displays']
              if d['Class'] == 'rviz_default_plugins/Image'}
    assert topics == {'/tracks/image', '/detections/image'}
    try:
        get_package_prefix('rviz2')
    except PackageNotFoundError:
        pytest.skip('rviz2 is not installable here (no ROS desktop packages): its executable '
                    'cannot be checked; the config above was')
    assert shutil.which('rviz2') or (Path(get_package_prefix('rviz2')) / 'lib' / 'rviz2' / 'rviz2').exists()


def test_every_config_file_named_exists_and_has_both_node_sections():
    assert graph_spec.DEFAULT_CONFIG.is_file() and graph_spec.RVIZ_CONFIG.is_file()
    assert graph_spec.DEFAULT_CONFIG in CONFIGS and len(CONFIGS) >= 2
    for config in CONFIGS:
        for node in ('detector_node', 'tracker_node'):
            assert parameter_dict_from_yaml_file(str(config), target_nodes=[node]), (config, node)


@pytest.fixture(scope='module')
def running_nodes():
    """{node name: (process, declared names, values)} of each graph node started like the launch file."""
    specs = graph_spec.graph(**{k: v for k, v in OVERRIDES.items() if k != 'weights'})
    procs = {s.name: NodeProcess(s.executable, graph_spec.ros_args(s, graph_spec.DEFAULT_CONFIG)[1:])
             for s in specs}
    context, node, executor = make_test_node('launch_file_check')
    try:
        result = {}
        for name, proc in procs.items():
            listing = _call(node, executor, ListParameters, f'/{name}/list_parameters',
                            ListParameters.Request(), proc)
            declared = set(listing.result.names)
            # Values of what the configs and the launch file set (all of it must be declared).
            wanted = sorted(declared & (set(OVERRIDES) | {
                key for config in CONFIGS
                for key in parameter_dict_from_yaml_file(str(config), target_nodes=[name])}))
            # One name per call: a parameter declared without a value (an empty `classes`
            # list) makes the service answer nothing for the whole request.
            values = {n: _call(node, executor, GetParameters, f'/{name}/get_parameters',
                               GetParameters.Request(names=[n]), proc).values for n in wanted}
            result[name] = (declared, {n: parameter_value_to_python(v[0]) if v else None
                                       for n, v in values.items()})
        yield result
    finally:
        close_test_node(context, node, executor)
        for proc in procs.values():
            proc.close()


def _call(node, executor, srv_type, service, request, proc):
    """Call a node's parameter service once it is up (node start-up includes model loading)."""
    client = node.create_client(srv_type, service)
    assert client.wait_for_service(timeout_sec=180), f'{service} never came up:\n{proc.output()}'
    future = client.call_async(request)
    executor.spin_until_future_complete(future, timeout_sec=30)
    assert future.done(), f'{service} did not answer'
    return future.result()


@pytest.mark.parametrize('config', CONFIGS, ids=lambda p: p.name)
def test_every_config_key_is_a_declared_parameter_of_its_node(running_nodes, config):
    for node in ('detector_node', 'tracker_node'):
        declared, defaults = running_nodes[node][0], running_nodes[node][1]
        keys = {name: parameter_value_to_python(p.value) for name, p in
                parameter_dict_from_yaml_file(str(config), target_nodes=[node]).items()}
        assert set(keys) <= declared, f'{config.name}: {node} does not declare {set(keys) - declared}'
        for name, value in keys.items():
            # Same type as the node's own value (ints may stand for floats, as ROS allows);
            # a list the node holds unset (None) is declared as a list.
            expected = list if defaults[name] is None else type(defaults[name])
            assert isinstance(value, expected) or (expected is float and isinstance(value, int)), (
                f'{config.name}: {node}.{name} = {value!r}, the node declares {expected.__name__}')


def test_launch_overrides_are_declared_and_applied(running_nodes):
    for spec in graph_spec.graph(**OVERRIDES):
        declared, values = running_nodes[spec.name]
        assert set(spec.parameters) <= declared
        for name, value in spec.parameters.items():
            assert values[name] == value, (spec.name, name)
    # And the YAML's own values reached the node where the launch file does not override them.
    default = parameter_dict_from_yaml_file(str(graph_spec.DEFAULT_CONFIG), target_nodes=['tracker_node'])
    values = running_nodes['tracker_node'][1]
    for name, param in default.items():
        if name not in OVERRIDES:
            assert values[name] == pytest.approx(parameter_value_to_python(param.value)), name
