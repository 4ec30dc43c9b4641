"""benchmarks/bench_camera_rate.py --quick: the camera-rate benchmark runs and reports its rows and
goals (the figures themselves are measured by the full run, in docs/BENCHMARKS.md)."""
import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow  # the camera-rate benchmark in three modes: ~20 s here
def test_bench_camera_rate_quick(tmp_path):
    out = tmp_path / 'camera_rate.json'
    proc = subprocess.run([sys.executable, os.path.join(REPO, 'benchmarks', 'bench_camera_rate.py'), '--quick',
                           '--groups', 'people', '--data-dir', str(tmp_path / 'data'), '--out', str(out)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    results = report['groups']['people']['tuning']['results']
    assert set(results) == {'1:0', '2:1', '3:2'}
    ours = 'ours: default (camera-rate engine)'
    assert 'ours: hold the last box' in results['3:2'] and 'ours: hold the last box' not in results['1:0']
    # Every frame is scored: with detections on a third of the frames, ours keeps tracking
    # the people between them, ByteTrack fed the same detections cannot.
    assert results['3:2'][ours]['MOTA'] > results['3:2']['boxmot ByteTrack (sparse, no delay)']['MOTA'] + 0.1
    assert results['1:0'][ours]['IDF1'] >= results['3:2'][ours]['IDF1'] > 0.3
    assert len(report['goals']) == 8 and '### Goals' in proc.stdout
