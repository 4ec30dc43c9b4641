"""Node parameters: declared with descriptions, loaded from YAML, numbers coerced, bad types named."""
import dataclasses

import pytest
import rclpy

from perception_deepsort.config import TrackerConfig
from perception_deepsort.tracker_node import tracker_parameters
from perception_maskrcnn.detector_node import PARAMETERS
from perception_maskrcnn.node_params import declare_parameters


def declared(tmp_path, node_name, text, specs):
    """``(values, descriptions)`` of ``specs`` declared on a node given the YAML ``text``."""
    path = tmp_path / 'params.yaml'
    path.write_text(text)
    context = rclpy.Context()
    rclpy.init(args=['--ros-args', '--params-file', str(path)], context=context)
    node = rclpy.create_node(node_name, context=context)
    try:
        values = declare_parameters(node, specs)
        names = [s.name for s in specs]
        return values, dict(zip(names, (d.description for d in node.describe_parameters(names))))
    finally:
        node.destroy_node()
        rclpy.try_shutdown(context=context)


def test_detector_parameters_load_from_yaml(tmp_path):
    values, descriptions = declared(tmp_path, 'detector_node', '''
detector_node:
  ros__parameters:
    backend: hog
    classes: [person, car]
    score_threshold: 1
    queue_size: 2
''', PARAMETERS)
    assert values['backend'] == 'hog' and values['classes'] == ['person', 'car']
    assert values['score_threshold'] == 1.0 and isinstance(values['score_threshold'], float)
    assert values['queue_size'] == 2 and values['device'] == 'auto' and values['input'] == 'raw'
    assert all(len(text) > 10 for text in descriptions.values())


def test_empty_class_list_means_all_classes(tmp_path):
    values, _ = declared(tmp_path, 'detector_node',
                         'detector_node:\n  ros__parameters:\n    classes: []\n', PARAMETERS)
    assert values['classes'] == []


def test_a_wrong_type_names_the_parameter(tmp_path):
    with pytest.raises(ValueError, match="'score_threshold' must be a number"):
        declared(tmp_path, 'detector_node',
                 'detector_node:\n  ros__parameters:\n    score_threshold: high\n', PARAMETERS)


def test_tracker_declares_every_config_field_with_its_doc(tmp_path):
    values, descriptions = declared(tmp_path, 'tracker_node', '''
tracker_node:
  ros__parameters:
    max_age: 50
    max_cosine_distance: 1
    sync_timeout_s: 0.5
''', tracker_parameters())
    docs = TrackerConfig.field_docs()
    for field in dataclasses.fields(TrackerConfig):
        assert descriptions[field.name] == docs[field.name]
    config = TrackerConfig(**{k: v for k, v in values.items() if k in docs})
    assert config.max_age == 50 and config.max_cosine_distance == 1.0
    assert values['sync_timeout_s'] == 0.5 and values['trail_length'] == 20
