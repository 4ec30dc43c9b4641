"""TrackerConfig: defaults, validation, ROS parameter files, field documentation."""

import dataclasses

import pytest

from perception_deepsort.config import TrackerConfig


def test_paper_settings():
    config = TrackerConfig.paper()
    assert (config.max_cosine_distance, config.nn_budget, config.max_iou_distance,
            config.max_age, config.n_init) == (0.2, 100, 0.7, 30, 3)
    assert config.gating_threshold == pytest.approx(9.4877)


def test_every_field_is_documented():
    docs = TrackerConfig.field_docs()
    assert set(docs) == {f.name for f in dataclasses.fields(TrackerConfig)}
    assert all(len(text) > 15 for text in docs.values())


def test_from_yaml_reads_ros_parameter_file(tmp_path):
    path = tmp_path / 'params.yaml'
    path.write_text('detector_node:\n  ros__parameters:\n    score_threshold: 0.5\n'
                    'tracker_node:\n  ros__parameters:\n    max_age: 45\n    nominal_dt: 0.1\n'
                    '    max_age_s: 2\n    use_sim_time: true\n    input_topic: /cam\n')
    config = TrackerConfig.from_yaml(path, ignore=['input_topic'])
    assert config.max_age == 45 and config.nominal_dt == 0.1
    assert config.max_age_s == 2.0 and isinstance(config.max_age_s, float)
    with pytest.raises(ValueError, match='input_topic'):
        TrackerConfig.from_yaml(path)


def test_from_yaml_reads_flat_mapping_and_wildcard_section(tmp_path):
    flat = tmp_path / 'flat.yaml'
    flat.write_text('n_init: 1\nclass_aware: false\n')
    assert TrackerConfig.from_yaml(flat).class_aware is False
    wildcard = tmp_path / 'wild.yaml'
    wildcard.write_text('/**:\n  ros__parameters:\n    n_init: 2\n'
                        '/tracker_node:\n  ros__parameters:\n    max_age: 5\n')
    config = TrackerConfig.from_yaml(wildcard)
    assert (config.n_init, config.max_age) == (2, 5)


def test_from_yaml_errors_name_the_problem(tmp_path):
    path = tmp_path / 'bad.yaml'
    path.write_text('max_agee: 3\n')
    with pytest.raises(ValueError, match=r'bad.yaml.*max_agee'):
        TrackerConfig.from_yaml(path)
    path.write_text('other_node:\n  ros__parameters:\n    a: 1\n')
    with pytest.raises(ValueError, match='no "tracker_node'):
        TrackerConfig.from_yaml(path)
    path.write_text('n_init: [1, 2]\n')
    with pytest.raises(ValueError, match="'n_init' must be int"):
        TrackerConfig.from_yaml(path)
    with pytest.raises(ValueError, match='missing.yaml'):
        TrackerConfig.from_yaml(tmp_path / 'missing.yaml')


@pytest.mark.parametrize('field, value', [('n_init', 0), ('max_cosine_distance', -1.0),
                                          ('nominal_dt', 0.0), ('use_appearance', 1),
                                          ('low_score_threshold', 0.9)])
def test_invalid_values_are_rejected(field, value):
    with pytest.raises(ValueError, match=field):
        TrackerConfig(**{field: value})
