"""perception-mot-reid-crops: MOTChallenge ground truth into a Market-1501-layout re-ID set."""

import os

import cv2
import numpy as np
import pytest

from perception_deepsort.mot import io, reid_crops, synthetic
from perception_deepsort.training.market1501 import load_dataset, parse_market_name


@pytest.fixture(scope='module')
def sequences(tmp_path_factory):
    root = tmp_path_factory.mktemp('seqs')
    for seed, camera in ((1, 'static'), (2, 'pan')):
        synthetic.write_sequence(str(root / synthetic.sequence_name(camera, seed, 0)), synthetic.SceneConfig(
            width=320, height=240, frames=40, objects=5, camera=camera, seed=seed), progress=False)
    return root


def test_export_writes_market_layout_that_the_trainer_reads(sequences, tmp_path):
    out = tmp_path / 'market'
    counts = reid_crops.export([str(sequences)], str(out), eval_seqs=1, every=2, progress=False)
    dataset = load_dataset(str(out))
    assert counts['train_ids'] > 3 and counts['eval_ids'] > 3
    assert len({s.pid for s in dataset.train}) == counts['train_ids']
    # Evaluation identities never appear in training, and each has one query (camera 1)
    # and gallery images from later in its life (camera 2).
    assert not {s.pid for s in dataset.train} & {s.pid for s in dataset.gallery}
    assert sorted(s.pid for s in dataset.query) == sorted({s.pid for s in dataset.gallery})
    assert {s.camid for s in dataset.query} == {1} and {s.camid for s in dataset.gallery} == {2}
    frame_of = lambda s: int(os.path.basename(s.path).split('_')[2])  # noqa: E731
    for query in dataset.query:
        assert all(frame_of(g) > frame_of(query) for g in dataset.gallery if g.pid == query.pid)
    image = cv2.imread(dataset.train[0].path)
    assert image is not None and image.shape[0] > image.shape[1]  # a standing person


def test_crops_come_from_matched_detections_of_visible_people(sequences, tmp_path):
    seq = str(sequences / synthetic.sequence_name('static', 1, 0))
    info, tracks = reid_crops.collect(seq, every=1, min_visibility=0.6, use_detections=True)
    truth = io.read_ground_truth(seq, info.length)
    detections = io.read_detections(seq, info.length)
    assert tracks
    for gt_id, samples in tracks.items():
        for frame, box in samples:
            gt = truth[frame - 1]
            row = int(np.flatnonzero(gt.ids == gt_id)[0])
            assert gt.visibility[row] >= 0.6
            assert any(np.array_equal(box, d) for d in detections[frame - 1].boxes)
    _, gt_tracks = reid_crops.collect(seq, every=1, min_visibility=0.6, use_detections=False)
    assert sum(map(len, gt_tracks.values())) >= sum(map(len, tracks.values()))


def test_cli_errors(sequences, tmp_path, capsys):
    assert reid_crops.main(['--seqs', str(tmp_path / 'none'), '--out', str(tmp_path / 'o')]) == 2
    assert 'not a folder' in capsys.readouterr().err
    assert reid_crops.main(['--seqs', str(sequences), '--out', str(tmp_path / 'o'), '--eval-seqs', '2']) == 2
    assert 'leaves no training sequence' in capsys.readouterr().err
    assert reid_crops.main(['--seqs', str(sequences), '--out', str(tmp_path / 'ok')]) == 0
    names = os.listdir(tmp_path / 'ok' / 'bounding_box_train')
    assert names and all(parse_market_name(n) for n in names)
