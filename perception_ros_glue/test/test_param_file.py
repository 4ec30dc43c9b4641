"""Parameter files read as the nodes read them: wildcard first, the node's own section wins."""
import pytest

from perception_ros_glue.param_file import node_parameters, read_node_parameters


def test_wildcard_then_node_section_with_nested_names(tmp_path):
    path = tmp_path / 'params.yaml'
    path.write_text('/**:\n  ros__parameters:\n    qos: reliable\n    a: 1\n'
                    'tracker_node:\n  ros__parameters:\n    a: 2\n    limits: {low: 0.1}\n'
                    'detector_node:\n  ros__parameters:\n    a: 3\n')
    assert read_node_parameters(path, 'tracker_node') == {'qos': 'reliable', 'a': 2,
                                                          'limits.low': 0.1}
    assert read_node_parameters(path, 'other_node') == {'qos': 'reliable', 'a': 1}


def test_flat_documents_only_when_allowed():
    assert node_parameters({'a': 1}, 'tracker_node', allow_flat=True) == {'a': 1}
    with pytest.raises(ValueError, match='no "tracker_node: ros__parameters:" section'):
        node_parameters({'a': 1}, 'tracker_node')
    with pytest.raises(ValueError, match='found sections: other'):
        node_parameters({'other': {'ros__parameters': {}}}, 'tracker_node')


def test_unreadable_files_are_named(tmp_path):
    with pytest.raises(ValueError, match='missing.yaml'):
        read_node_parameters(tmp_path / 'missing.yaml', 'tracker_node')
    (tmp_path / 'bad.yaml').write_text('a: [1\n')
    with pytest.raises(ValueError, match='bad.yaml: cannot read'):
        read_node_parameters(tmp_path / 'bad.yaml', 'tracker_node')


def test_sections_for_a_namespaced_node_as_rcl_matches_them():
    document = {'/**': {'ros__parameters': {'a': 0, 'q': 1}},
                '/**/detector_node': {'ros__parameters': {'w': 1}},
                'detector_node': {'ros__parameters': {'a': 1}},
                '/front/detector_node': {'ros__parameters': {'a': 2}},
                'rear': {'detector_node': {'ros__parameters': {'a': 3}}},
                '/side/*': {'ros__parameters': {'s': 1}}}
    assert node_parameters(document, 'detector_node') == {'a': 1, 'q': 1, 'w': 1}
    assert node_parameters(document, 'detector_node', namespace='/front') == {'a': 2, 'q': 1, 'w': 1}
    assert node_parameters(document, 'detector_node', namespace='/rear') == {'a': 3, 'q': 1, 'w': 1}
    assert node_parameters(document, 'tracker_node', namespace='/side') == {'a': 0, 'q': 1, 's': 1}
    assert node_parameters(document, 'tracker_node', namespace='/a/b') == {'a': 0, 'q': 1}
