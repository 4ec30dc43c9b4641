"""graph_spec: the cameras syntax, namespaced node specs and their parameter files (no ROS)."""
import pytest
import yaml

from perception_bringup import graph_spec
from perception_bringup.graph_spec import Camera, parse_cameras


def test_parse_cameras():
    assert parse_cameras('') == (Camera('', graph_spec.DEFAULT_IMAGE_TOPIC),)
    assert parse_cameras(None, '/cam/image') == (Camera('', '/cam/image'),)
    assert parse_cameras(' front:/front/image_raw , rear ') == (
        Camera('front', '/front/image_raw'), Camera('rear', '/rear/image_raw'))
    for bad, why in (('front:/a,front:/b', 'twice'), ('1st:/a', 'letters'),
                     ('a:/x,b:/x', 'same topic'), (',', 'letters')):
        with pytest.raises(ValueError, match=why):
            parse_cameras(bad)


def test_graph_has_one_namespaced_pair_per_camera():
    specs = graph_spec.graph(cameras='front:/f/img,rear:/r/img', backend='hog')
    assert [s.full_name for s in specs] == ['/front/detector_node', '/front/tracker_node',
                                            '/rear/detector_node', '/rear/tracker_node']
    assert specs[2].remappings[0] == ('image', '/r/img')
    args = graph_spec.ros_args(specs[2], 'p.yaml')
    assert args[:5] == ['--ros-args', '-r', '__node:=detector_node', '-r', '__ns:=/rear']
    assert [s.full_name for s in graph_spec.graph()] == ['/detector_node', '/tracker_node']
    assert '__ns:=' not in ' '.join(graph_spec.ros_args(graph_spec.graph()[0], 'p.yaml'))


def test_node_params_file_resolves_the_sections_of_a_namespaced_node(tmp_path):
    config = tmp_path / 'p.yaml'
    config.write_text('/**:\n  ros__parameters:\n    qos: reliable\n'
                      '/**/tracker_node:\n  ros__parameters:\n    n_init: 2\n    max_age: 5\n'
                      'tracker_node:\n  ros__parameters:\n    max_age: 9\n'
                      'front:\n  tracker_node:\n    ros__parameters:\n      max_age: 40\n')
    front, rear = (s for s in graph_spec.graph(cameras='front,rear') if s.name == 'tracker_node')
    written = yaml.safe_load(graph_spec.node_params_file(front, config, tmp_path).read_text())
    assert written == {'/front/tracker_node': {'ros__parameters': {
        'qos': 'reliable', 'n_init': 2, 'max_age': 40}}}
    written = yaml.safe_load(graph_spec.node_params_file(rear, config, tmp_path).read_text())
    assert written['/rear/tracker_node']['ros__parameters']['max_age'] == 9
    # Without a namespace the file itself is given, as before.
    assert graph_spec.node_params_file(graph_spec.graph()[1], config, tmp_path) == config


def test_shipped_configs_apply_to_namespaced_nodes():
    for config in sorted(graph_spec.CONFIG_DIR.glob('*.yaml')):
        for spec in graph_spec.graph(cameras='front'):
            assert graph_spec.read_node_parameters(config, spec.name, namespace=spec.namespace)
