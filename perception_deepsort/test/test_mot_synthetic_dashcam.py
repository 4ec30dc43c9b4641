"""Dashcam generator: forward motion makes boxes grow, parked cars leave the view, ignore boxes."""

import numpy as np

from perception_deepsort.mot import io
from perception_deepsort.mot import synthetic_dashcam as dashcam


def test_dashcam_sequence_layout_growth_and_ignore_boxes(tmp_path):
    folder = str(tmp_path / 'seq')
    dashcam.write_sequence(folder, dashcam.DashcamConfig(width=320, height=180, frames=60, seed=3), progress=False)
    info = io.read_seqinfo(folder)
    assert (info.length, info.width, info.height) == (60, 320, 180)
    rows = np.loadtxt(f'{folder}/gt/gt.txt', delimiter=',')
    assert set(np.unique(rows[:, 7])) <= {1, 8} and (rows[:, 7] == 8).any()  # distractor = ignore box
    assert (rows[rows[:, 7] == 8, 8] < 0.25).any()  # low visibility is ignored
    # Parked cars (static in the world) get bigger frame to frame as we approach, then leave the view.
    heights = {}
    for frame, vid, _, _, _, h in rows[:, :6]:
        heights.setdefault(int(vid), []).append((int(frame), h))
    growing = [v for v in heights.values() if len(v) > 20 and v[-1][1] > 1.5 * v[0][1]]
    assert growing
    assert any(v[-1][0] < 60 for v in heights.values())  # someone left the view before the end
    dets = np.loadtxt(f'{folder}/det/det.txt', delimiter=',')
    assert len(dets) > 60 and (dets[:, 2] >= 0).all() and (dets[:, 2] + dets[:, 4] <= 320 + 1e-6).all()


def test_dashcam_is_deterministic():
    a = dashcam.DashcamGenerator(dashcam.DashcamConfig(width=160, height=90, frames=5, seed=1))
    b = dashcam.DashcamGenerator(dashcam.DashcamConfig(width=160, height=90, frames=5, seed=1))
    for t in range(5):
        (ia, ta), (ib, tb) = a.render(t), b.render(t)
        assert np.array_equal(ia, ib) and np.array_equal(ta.boxes, tb.boxes)
