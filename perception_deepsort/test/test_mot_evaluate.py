"""MOT evaluation: perfect scores for ground truth against itself, ID switches counted on a swap."""

import json
import os

import numpy as np
import pytest

from perception_deepsort.mot import evaluate, io


def _write_two_walkers(seq_dir, frames=20):
    """A sequence with two people walking side by side; returns their boxes per frame."""
    io.write_seqinfo(str(seq_dir), io.SeqInfo(os.path.basename(str(seq_dir)), 30.0, frames, 640, 480))
    rows = [(f, pid, np.array([10 + 5 * f + 200 * (pid - 1), 100, 60 + 5 * f + 200 * (pid - 1), 250.0]))
            for f in range(1, frames + 1) for pid in (1, 2)]
    io.write_ground_truth(str(seq_dir / 'gt' / 'gt.txt'), [r[0] for r in rows], [r[1] for r in rows],
                          np.array([r[2] for r in rows]), np.ones(len(rows)))
    return rows


def test_ground_truth_against_itself_is_perfect(tmp_path):
    rows = _write_two_walkers(tmp_path / 'A')
    io.write_results(str(tmp_path / 'A.txt'), [r[0] for r in rows], [r[1] for r in rows],
                     np.array([r[2] for r in rows]), np.ones(len(rows)))
    table = evaluate.evaluate({'A': (str(tmp_path / 'A'), str(tmp_path / 'A.txt'))})
    row = table['A']
    assert row['HOTA'] == pytest.approx(1.0) and row['IDF1'] == pytest.approx(1.0)
    assert row['MOTA'] == pytest.approx(1.0) and row['IDSW'] == 0
    assert (row['FP'], row['FN'], row['GT_IDs'], row['IDs']) == (0, 0, 2, 2)


def test_swapped_ids_are_counted(tmp_path):
    rows = _write_two_walkers(tmp_path / 'A')
    ids = [(3 - r[1]) if r[0] > 10 else r[1] for r in rows]  # the two ids swap after frame 10
    io.write_results(str(tmp_path / 'A.txt'), [r[0] for r in rows], ids,
                     np.array([r[2] for r in rows]), np.ones(len(rows)))
    row = evaluate.evaluate({'A': (str(tmp_path / 'A'), str(tmp_path / 'A.txt'))})['A']
    assert row['IDSW'] == 2
    assert row['MOTA'] == pytest.approx(1 - 2 / 40)
    assert row['IDF1'] == pytest.approx(0.5)  # each id is right for exactly half of its frames
    assert row['HOTA'] < 0.8 and row['DetA'] == pytest.approx(1.0)


def test_cli_many_sequences_table_and_json(tmp_path, capsys):
    for name in ('A', 'B'):
        rows = _write_two_walkers(tmp_path / 'gt' / name)
        keep = [r for r in rows if not (name == 'B' and r[1] == 2)]  # B misses one person entirely
        io.write_results(str(tmp_path / 'res' / f'{name}.txt'), [r[0] for r in keep], [r[1] for r in keep],
                         np.array([r[2] for r in keep]), np.ones(len(keep)))
    out_json = tmp_path / 'm.json'
    assert evaluate.main(['--gt-root', str(tmp_path / 'gt'), '--results', str(tmp_path / 'res'),
                          '--json', str(out_json)]) == 0
    printed = capsys.readouterr().out
    assert '| A |' in printed and '| B |' in printed and '| COMBINED |' in printed
    table = json.loads(out_json.read_text())
    assert table['B']['FN'] == 20 and table['B']['Rcll'] == pytest.approx(0.5)
    assert table['COMBINED']['FN'] == 20 and table['COMBINED']['Rcll'] == pytest.approx(0.75)
    assert table['A']['IDF1'] == pytest.approx(1.0)


def test_cli_errors_name_the_missing_file(tmp_path, capsys):
    _write_two_walkers(tmp_path / 'gt' / 'A')
    (tmp_path / 'res').mkdir()
    assert evaluate.main(['--gt-root', str(tmp_path / 'gt'), '--results', str(tmp_path / 'res')]) == 2
    assert 'A.txt: not found' in capsys.readouterr().err
    assert evaluate.main(['--gt-root', str(tmp_path / 'nothing'), '--results', str(tmp_path / 'res')]) == 2
    assert 'nothing' in capsys.readouterr().err
