"""Synthetic MOTChallenge generator: deterministic, valid layout, real occlusions and camera pan."""

import filecmp
import os

import cv2
import numpy as np
import pytest

from perception_deepsort.mot import io, synthetic


def _make(out, camera='static', seed=0, frames=30, objects=6, seqs=1):
    """Generate sequences with the CLI entry point; return their folders."""
    assert synthetic.main(['--out', str(out), '--seqs', str(seqs), '--frames', str(frames), '--objects',
                           str(objects), '--camera', camera, '--width', '320', '--height', '240',
                           '--seed', str(seed)]) == 0
    return sorted(os.path.join(out, d) for d in os.listdir(out))


@pytest.fixture(scope='module')
def long_static(tmp_path_factory):
    """One 150-frame static-camera sequence with 12 people."""
    return _make(tmp_path_factory.mktemp('static'), frames=150, objects=12)[0]


def test_same_seed_same_files_other_seed_differs(tmp_path):
    a = _make(tmp_path / 'a', seed=3)[0]
    b = _make(tmp_path / 'b', seed=3)[0]
    c = _make(tmp_path / 'c', seed=4)[0]
    for rel in ('gt/gt.txt', 'det/det.txt', 'seqinfo.ini', 'img1/000001.jpg', 'img1/000030.jpg'):
        assert filecmp.cmp(os.path.join(a, rel), os.path.join(b, rel), shallow=False), rel
    assert not filecmp.cmp(os.path.join(a, 'gt/gt.txt'), os.path.join(c, 'gt/gt.txt'), shallow=False)


def test_layout_is_valid_motchallenge(tmp_path):
    folders = _make(tmp_path, camera='pan', seqs=2, frames=20)
    assert [os.path.basename(f) for f in folders] == ['SYN-PAN-S0-00', 'SYN-PAN-S0-01']
    seq = folders[0]
    info = io.read_seqinfo(seq)
    assert (info.length, info.width, info.height, info.frame_rate) == (20, 320, 240, 30.0)
    assert sorted(os.listdir(os.path.join(seq, 'img1'))) == [f'{i:06d}.jpg' for i in range(1, 21)]
    assert io.read_frame(seq, info, 20).shape == (240, 320, 3)
    gt = io.load_table(os.path.join(seq, 'gt', 'gt.txt'))
    assert gt.shape[1] == 9 and np.all(gt[:, 6] == 1) and np.all(gt[:, 7] == 1)
    assert np.all((gt[:, 8] >= 0) & (gt[:, 8] <= 1))
    assert set(gt[:, 0].astype(int)) == set(range(1, 21))
    for frame in range(1, 21):  # ids unique within a frame
        ids = gt[gt[:, 0] == frame, 1]
        assert len(ids) == len(set(ids))
    det = io.load_table(os.path.join(seq, 'det', 'det.txt'))
    assert det.shape[1] == 10 and np.all(det[:, 1] == -1)
    assert np.all((det[:, 6] > 0) & (det[:, 6] < 1)) and np.all(det[:, 4:6] > 0)
    assert np.all(det[:, 2] >= 0) and np.all(det[:, 2] + det[:, 4] <= 320 + 1e-6)


def test_people_occlude_each_other_and_come_and_go(long_static):
    gt = io.load_table(os.path.join(long_static, 'gt', 'gt.txt'))
    det = io.load_table(os.path.join(long_static, 'det', 'det.txt'))
    vis = gt[:, 8]
    assert (vis < 0.5).mean() > 0.05, 'partial occlusions must happen'
    assert (vis < 0.1).sum() > 10, 'full occlusions must happen'
    assert len(np.unique(gt[:, 1])) > 12, 'people must leave and new ones enter'
    per_frame = np.bincount(gt[:, 0].astype(int))[1:]
    assert per_frame.min() >= 6 and per_frame.max() <= 16
    # Detector noise: misses while occluded, low scores exist, and some false positives.
    assert len(det) < len(gt)
    assert ((det[:, 6] < 0.5).sum() > 20) and ((det[:, 6] > 0.8).sum() > len(det) // 2)


def test_pan_moves_the_scene_and_static_does_not(tmp_path):
    def shift(seq):
        info = io.read_seqinfo(seq)
        a, b = (cv2.cvtColor(io.read_frame(seq, info, f), cv2.COLOR_RGB2GRAY).astype(np.float32)
                for f in (1, info.length))
        (dx, dy), _ = cv2.phaseCorrelate(a, b)
        return abs(dx)

    assert shift(_make(tmp_path / 'p', camera='pan', frames=40, objects=3)[0]) > 5
    assert shift(_make(tmp_path / 's', camera='static', frames=40, objects=3)[0]) < 1


def test_cli_rejects_bad_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        synthetic.main(['--out', str(tmp_path), '--frames', '0'])
    assert exc.value.code == 2 and '--frames must be at least 1' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        synthetic.main(['--out', str(tmp_path), '--camera', 'dolly'])


def test_uninformative_appearances_keep_trajectories_and_detections(tmp_path):
    folders = {}
    for appearance in synthetic.APPEARANCES:
        folders[appearance] = str(tmp_path / appearance)
        synthetic.write_sequence(folders[appearance], synthetic.SceneConfig(
            width=320, height=240, frames=15, objects=6, seed=5, appearance=appearance), progress=False)
    for appearance in ('lookalike', 'uniform'):
        for part in ('gt/gt.txt', 'det/det.txt'):
            assert filecmp.cmp(os.path.join(folders['distinct'], part), os.path.join(folders[appearance], part),
                               shallow=False), (appearance, part)
    uniform = cv2.imread(os.path.join(folders['uniform'], 'img1', '000005.jpg'))
    assert uniform.std() < 2  # one flat grey: no appearance at all
    with pytest.raises(ValueError, match='appearance'):
        synthetic.SequenceGenerator(synthetic.SceneConfig(appearance='plaid'))
