"""Market-1501 / folder layouts, junk handling, retrieval metrics, synthetic market generator."""

import subprocess
import sys

import numpy as np
import pytest

from perception_deepsort.training.market1501 import DatasetError, load_dataset, parse_market_name
from perception_deepsort.training.metrics import evaluate_ranking


def touch(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b'')


def test_parse_market_names():
    assert parse_market_name('0001_c1s1_001051_00.jpg') == (1, 1)
    assert parse_market_name('/data/query/1501_c6s4_001877_02.jpg') == (1501, 6)
    assert parse_market_name('-1_c3s2_000123_01.jpg') == (-1, 3)
    assert parse_market_name('0000_c2s1_000001_00.jpg') == (0, 2)
    assert parse_market_name('Thumbs.db') is None
    assert parse_market_name('person_1.jpg') is None


def test_market_layout_and_junk_ids(tmp_path):
    touch(tmp_path / 'bounding_box_train', '0002_c1s1_000001_00.jpg', '0002_c2s1_000002_00.jpg',
          '0000_c1s1_000003_00.jpg', '-1_c1s1_000004_00.jpg')
    touch(tmp_path / 'query', '0005_c1s1_000005_00.jpg', '0000_c1s1_000006_00.jpg', '-1_c2s1_000007_00.jpg')
    touch(tmp_path / 'bounding_box_test', '0005_c2s1_000008_00.jpg', '0000_c3s1_000009_00.jpg',
          '-1_c1s1_000010_00.jpg')
    dataset = load_dataset(str(tmp_path))
    assert dataset.layout == 'market1501' and dataset.has_eval
    assert [(s.pid, s.camid) for s in dataset.train] == [(2, 1), (2, 2)]
    assert [(s.pid, s.camid) for s in dataset.query] == [(5, 1)]
    # Distractors (0000) stay in the gallery as negatives; junk (-1) is dropped everywhere.
    assert sorted((s.pid, s.camid) for s in dataset.gallery) == [(0, 3), (5, 2)]


def test_bad_market_name_is_reported(tmp_path):
    touch(tmp_path / 'bounding_box_train', '0001_c1s1_000001_00.jpg', 'holiday.jpg')
    with pytest.raises(DatasetError, match='holiday.jpg: expected a Market-1501 name'):
        load_dataset(str(tmp_path))


def test_folder_per_identity_layouts(tmp_path):
    touch(tmp_path / 'flat' / '7', 'a.jpg', 'b.png')
    touch(tmp_path / 'flat' / 'alice', 'c.jpg', 'notes.txt')
    dataset = load_dataset(str(tmp_path / 'flat'))
    assert dataset.layout == 'folders' and not dataset.has_eval
    assert [(s.pid, s.camid) for s in dataset.train] == [(7, -1), (7, -1), ('alice', -1)]
    touch(tmp_path / 'split' / 'query' / '3', 'q.jpg')
    touch(tmp_path / 'split' / 'gallery' / '3', 'g.jpg')
    split = load_dataset(str(tmp_path / 'split'))
    assert split.has_eval and not split.train and split.query[0].pid == 3


def test_missing_or_empty_dataset(tmp_path):
    with pytest.raises(DatasetError, match='not found'):
        load_dataset(str(tmp_path / 'absent'))
    with pytest.raises(DatasetError, match='no images found'):
        load_dataset(str(tmp_path))


def test_ranking_excludes_same_camera_same_id():
    # Query id 1 camera 1. Gallery: same id same camera (excluded), id 2, id 1 from camera 2.
    distances = np.array([[0.0, 0.1, 0.2]])
    result = evaluate_ranking(distances, [1], [1], [1, 2, 1], [1, 1, 2])
    assert result['rank1'] == 0.0 and result['rank5'] == 1.0
    assert result['mAP'] == pytest.approx(0.5)  # the only true match is ranked 2nd
    perfect = evaluate_ranking(np.array([[0.3, 0.2, 0.1]]), [1], [1], [1, 2, 1], [1, 1, 2])
    assert perfect['rank1'] == 1.0 and perfect['mAP'] == 1.0


def test_ranking_map_with_several_matches_and_no_match():
    distances = np.array([[0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4]])
    # Query 1 (id 1): matches at ranks 1 and 3 -> AP = (1/1 + 2/3) / 2. Query 2 (id 9): no match.
    result = evaluate_ranking(distances, [1, 9], [5, 5], [1, 2, 1, 3], [1, 1, 2, 2])
    assert result['num_queries'] == 1
    assert result['mAP'] == pytest.approx((1 + 2 / 3) / 2)


def test_make_market_cli(tmp_path):
    out = tmp_path / 'market'
    run = subprocess.run([sys.executable, '-m', 'perception_deepsort.training.synthetic_market', '--out', str(out),
                          '--ids', '6', '--cameras', '2', '--images-per-camera', '2', '--distractors', '2'],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    dataset = load_dataset(str(out))
    assert {s.pid for s in dataset.train} == {1, 2, 3}
    assert {s.pid for s in dataset.query} == {4, 5, 6}
    assert {s.pid for s in dataset.gallery} == {0, 4, 5, 6}
    # Every query has a cross-camera match in the gallery.
    for query in dataset.query:
        assert any(g.pid == query.pid and g.camid != query.camid for g in dataset.gallery)
    bad = subprocess.run([sys.executable, '-m', 'perception_deepsort.training.synthetic_market', '--out', str(out),
                          '--ids', '2'], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and 'at least 4 identities' in bad.stderr and 'Traceback' not in bad.stderr
