"""Tracker node parameters: one per TrackerConfig field with its doc, plus the node's own."""
import dataclasses

from perception_deepsort.config import TrackerConfig
from perception_deepsort.tracker_node import tracker_parameters
from perception_ros_glue.ros_testing import declared_parameters


def test_tracker_declares_every_config_field_with_its_doc(tmp_path):
    path = tmp_path / 'params.yaml'
    path.write_text('''
tracker_node:
  ros__parameters:
    max_age: 50
    max_cosine_distance: 1
    sync_timeout_s: 0.5
''')
    values, descriptions = declared_parameters('tracker_node', path, tracker_parameters())
    docs = TrackerConfig.field_docs()
    for field in dataclasses.fields(TrackerConfig):
        assert descriptions[field.name] == docs[field.name]
    config = TrackerConfig(**{k: v for k, v in values.items() if k in docs})
    assert config.max_age == 50 and config.max_cosine_distance == 1.0
    assert values['sync_timeout_s'] == 0.5 and values['trail_length'] == 20
