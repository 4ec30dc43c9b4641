"""perception-track-mot end to end as a real process on generated sequences."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from perception_deepsort.mot import evaluate, io, synthetic

TOOL = [sys.executable, '-m', 'perception_deepsort.mot.track']


@pytest.fixture(scope='module')
def seq_root(tmp_path_factory):
    """Two small generated sequences (static and panning camera) under one folder."""
    root = tmp_path_factory.mktemp('seqs')
    for camera in ('static', 'pan'):
        synthetic.write_sequence(str(root / camera), synthetic.SceneConfig(
            width=320, height=240, frames=40, objects=4, camera=camera, seed=5), progress=False)
    return root


def _run(*args):
    """Run the tool, return the completed process."""
    return subprocess.run(TOOL + [str(a) for a in args], capture_output=True, text=True, timeout=120)


def test_tracks_a_sequence_into_wellformed_results(seq_root, tmp_path):
    out = tmp_path / 'static.txt'
    proc = _run('--seq-dir', seq_root / 'static', '--out', out, '--embedder', 'histogram')
    assert proc.returncode == 0, proc.stderr
    assert 'frames/s' in proc.stdout and '40 frames' in proc.stdout
    table = np.loadtxt(out, delimiter=',', ndmin=2)
    assert table.shape[1] == 10 and len(table) > 40
    assert np.all((table[:, 0] >= 1) & (table[:, 0] <= 40)) and np.all(table[:, 1] >= 1)
    assert np.all(table[:, 4:6] > 0) and np.all(table[:, 7:] == -1)
    assert np.all((table[:, 6] > 0) & (table[:, 6] <= 1))
    pairs = table[:, :2].astype(int)
    assert len(np.unique(pairs, axis=0)) == len(pairs), 'an id appears twice in one frame'
    metrics = evaluate.evaluate({'static': (str(seq_root / 'static'), str(out))})['static']
    assert metrics['IDF1'] > 0.6 and metrics['MOTA'] > 0.5


def test_frames_are_read_only_when_needed(seq_root, tmp_path):
    no_images = tmp_path / 'no_images'
    shutil.copytree(seq_root / 'static', no_images, ignore=shutil.ignore_patterns('img1'))
    config = tmp_path / 'motion_only.yaml'
    config.write_text('tracker_node:\n  ros__parameters:\n    camera_motion: false\n    box_flow: false\n'
                      '    embedder: none\n')
    proc = _run('--seq-dir', no_images, '--out', tmp_path / 'a.txt', '--config', config)
    assert proc.returncode == 0, proc.stderr
    assert len(io.load_table(str(tmp_path / 'a.txt'))) > 40
    config.write_text('camera_motion: false\nembedder: none\n')  # box flow needs the frames
    proc = _run('--seq-dir', no_images, '--out', tmp_path / 'b.txt', '--config', config)
    assert proc.returncode == 2 and '000001.jpg' in proc.stderr and 'Traceback' not in proc.stderr


def test_folder_of_sequences_and_user_errors(seq_root, tmp_path):
    proc = _run('--seq-dir', seq_root, '--out-dir', tmp_path / 'res', '--embedder', 'none')
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(tmp_path / 'res')) == ['pan.txt', 'static.txt']
    assert '80 frames' in proc.stdout
    proc = _run('--seq-dir', seq_root, '--out', tmp_path / 'one.txt')
    assert proc.returncode == 2 and '--out-dir' in proc.stderr
    bad = tmp_path / 'bad.yaml'
    bad.write_text('max_age: -3\n')
    proc = _run('--seq-dir', seq_root / 'pan', '--out', tmp_path / 'x.txt', '--config', bad)
    assert proc.returncode == 2 and 'max_age' in proc.stderr and 'Traceback' not in proc.stderr
    proc = _run('--seq-dir', tmp_path / 'missing', '--out', tmp_path / 'x.txt')
    assert proc.returncode == 2 and 'missing' in proc.stderr


def test_trained_reid_profile_with_a_descriptor_trained_on_other_sequences(seq_root, tmp_path):
    from perception_deepsort.mot import reid_crops
    from perception_deepsort.training import train

    other = tmp_path / 'other'
    synthetic.write_sequence(str(other / 'train'), synthetic.SceneConfig(
        width=320, height=240, frames=40, objects=4, camera='static', seed=77), progress=False)
    reid_crops.export([str(other)], str(tmp_path / 'market'), every=2, progress=False)
    run = train.train(str(tmp_path / 'market'), str(tmp_path / 'run'), epochs=1, input_size=(64, 32), width=8)
    profile = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                           'config', 'trained_reid.yaml')
    proc = _run('--seq-dir', seq_root / 'static', '--out', tmp_path / 'no_weights.txt', '--config', profile)
    assert proc.returncode == 2 and "'cnn' needs weights" in proc.stderr and 'Traceback' not in proc.stderr
    out = tmp_path / 'cnn.txt'
    proc = _run('--seq-dir', seq_root / 'static', '--out', out, '--config', profile, '--embedder-weights', run['last'])
    assert proc.returncode == 0, proc.stderr
    assert '(embedder cnn' in proc.stdout
    metrics = evaluate.evaluate({'static': (str(seq_root / 'static'), str(out))})['static']
    assert metrics['IDF1'] > 0.6 and metrics['MOTA'] > 0.5
