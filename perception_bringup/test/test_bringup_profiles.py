"""Per-weights profiles laid over the parameter file, as the demo does."""
import pytest
import yaml

from perception_bringup import node_config, profiles
from perception_bringup.cli import UserError
from perception_bringup.graph_spec import CONFIG_DIR, DEFAULT_CONFIG
from perception_maskrcnn.backends import person_checkpoint


def test_people_checkpoint_profile_overrides_only_its_keys(tmp_path):
    profile = profiles.PROFILES[person_checkpoint.SHA256]
    assert profile == CONFIG_DIR / 'person_fall_detection.yaml' and profile.is_file()
    merged = profiles.merge(DEFAULT_CONFIG, profile, tmp_path / 'parameters.yaml')
    wanted = yaml.safe_load(profile.read_text())
    base = yaml.safe_load(DEFAULT_CONFIG.read_text())
    detector = node_config.detector_parameters(merged)
    for key, value in wanted['detector_node']['ros__parameters'].items():
        assert detector[key] == value
    assert detector['queue_size'] == base['detector_node']['ros__parameters']['queue_size']
    tracker = node_config.tracker_config(merged)
    for key, value in wanted['tracker_node']['ros__parameters'].items():
        assert getattr(tracker, key) == value
    assert tracker.max_age == base['tracker_node']['ros__parameters']['max_age']
    # The detector passes what the tracker's low-score pass wants.
    assert detector['score_threshold'] <= tracker.low_score_threshold <= tracker.min_score


def test_a_broken_profile_is_named(tmp_path):
    broken = tmp_path / 'broken.yaml'
    broken.write_text('detector_node: [unclosed\n')
    with pytest.raises(UserError, match=f'cannot read parameter file {broken}'):
        profiles.merge(DEFAULT_CONFIG, broken, tmp_path / 'out.yaml')
