"""The tracker benchmark's smoke mode runs end to end and writes its JSON report."""

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_bench_tracker_quick(tmp_path):
    out = tmp_path / 'tracker.json'
    proc = subprocess.run([sys.executable, os.path.join(REPO, 'benchmarks', 'bench_tracker.py'), '--quick',
                           '--out', str(out), '--data-dir', str(tmp_path / 'data')],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert set(report['speed']['objects_per_frame']) == {'10', '50'}
    for row in report['speed']['objects_per_frame'].values():
        assert row['ours'] > 0 and row['deep_sort_realtime'] > 0
    trackers = report['accuracy']['trackers']
    assert {'ours: default (all extensions)', 'deep-sort-realtime (same embeddings)', 'boxmot ByteTrack',
            'boxmot OC-SORT', 'boxmot BoT-SORT (no ReID, ECC)'} <= set(trackers)
    for table in trackers.values():
        assert 0 <= table['all']['IDF1'] <= 1 and table['all']['IDSW'] >= 0
    assert set(report['heldout']['trackers']) == set(trackers)  # same trackers, other seeds
    assert report['process']['fps'] > 0 and len(report['goals']) == 11
    assert '| objects/frame |' in proc.stdout and '### Goals' in proc.stdout
    assert 'held-out' in proc.stdout
