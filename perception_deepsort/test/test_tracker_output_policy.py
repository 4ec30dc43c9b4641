"""What the outputs show: briefly lost tracks, births on the low-score pass, offline first frames and gaps."""

import logging

import numpy as np

from perception_deepsort.config import TrackerConfig
from perception_deepsort.deep_sort import DeepSort, confirmed_tracks
from perception_deepsort.mot.offline_rows import OfflineRows
from perception_deepsort.track import TrackState

FPS = 30.0
SIZE = (640, 480)


def _config(**changes):
    """Motion only, no camera motion: only the rule under test decides."""
    return TrackerConfig(**{'use_appearance': False, 'camera_motion': False, 'embedder': 'none', **changes})


def _box(x, y=200.0):
    """A person-sized xyxy box at x."""
    return np.array([x, y, x + 40.0, y + 100.0])


def _walk(tracker, frames, seen, x0=100.0, speed=3.0, score=0.9, collect=None, size=SIZE):
    """Update a walker moving right; seen(f) says whether frame f has its detection."""
    outputs = []
    for f in frames:
        boxes = np.array([_box(x0 + speed * f)]) if seen(f) else np.zeros((0, 4))
        out = tracker.update(boxes, np.full(len(boxes), score), np.zeros(len(boxes), int), timestamp=f / FPS,
                             image_size=size)
        outputs.append(out)
        if collect is not None:
            collect.add(f + 1, out)
    return outputs


def test_a_lost_track_is_shown_for_output_lost_s_then_hidden():
    config = _config(output_lost_s=0.1)  # 3 frames at 30 fps
    tracker = DeepSort(config)
    outputs = _walk(tracker, range(20), lambda f: f < 10)
    shown = [len(confirmed_tracks(o)) for o in outputs]
    assert shown[2:10] == [1] * 8 and shown[10:13] == [1, 1, 1] and shown[13:] == [0] * 7
    lost = confirmed_tracks(outputs[11])[0]
    assert lost.detection_index == -1 and lost.time_since_update > 0
    assert lost.box[0] > _box(100 + 3 * 9)[0]  # predicted on, not frozen
    assert outputs[13][0].state is TrackState.LOST
    hidden = _walk(DeepSort(_config(output_lost_s=0.0)), range(20), lambda f: f < 10)
    assert [len(confirmed_tracks(o)) for o in hidden][10:13] == [0, 0, 0]


def test_a_lost_track_at_the_image_border_is_not_shown():
    config = _config(output_lost_s=1.0)
    # Walking out at the right edge: 640 - 40 = 600 is reached at frame 18; lost from frame 15.
    outputs = _walk(DeepSort(config), range(25), lambda f: f < 15, x0=550.0, speed=3.0)
    shown = [len(confirmed_tracks(o)) for o in outputs]
    assert shown[15] == 1 and shown[-1] == 0
    # Without the image size: still shown.
    blind = _walk(DeepSort(config), range(25), lambda f: f < 15, x0=550.0, speed=3.0, size=None)
    assert len(confirmed_tracks(blind[-1])) == 1


def test_low_score_confirms_lets_a_dipping_person_be_confirmed():
    scores = [0.9, 0.3, 0.3, 0.9]
    for flag, confirmed in ((False, False), (True, True)):
        tracker = DeepSort(_config(low_score_confirms=flag))
        for f, score in enumerate(scores[:3]):
            out = tracker.update(np.array([_box(100 + 3 * f)]), [score], [0], timestamp=f / FPS)
        assert (len(out) and out[0].state is TrackState.CONFIRMED) == confirmed


def test_offline_rows_publish_first_frames_and_fill_short_gaps():
    config = _config(output_lost_s=0.0)
    online, offline = OfflineRows(first_frames=False), OfflineRows(first_frames=True, max_gap=3)
    tracker = DeepSort(config)
    seen = lambda f: not (5 <= f < 8)  # noqa: E731 - a 3-frame gap
    for f, out in enumerate(_walk(tracker, range(12), seen)):
        online.add(f + 1, out)
        offline.add(f + 1, out)
    frames_online = online.rows()[0].tolist()
    frames, ids, boxes, _ = offline.rows()
    assert frames_online == [3, 4, 5, 9, 10, 11, 12]  # confirmed on the 3rd frame, gap left open
    assert frames.tolist() == list(range(1, 13)) and len(set(ids.tolist())) == 1
    # The gap's boxes lie on the line between the boxes around it.
    np.testing.assert_allclose(boxes[5:8, 0], np.interp([6, 7, 8], [5, 9], boxes[[4, 8], 0]))


def test_offline_rows_drop_tentative_tracks_that_never_confirm():
    rows = OfflineRows()
    tracker = DeepSort(_config())
    _walk(tracker, range(2), lambda f: True, collect=rows)
    _walk(tracker, range(2, 4), lambda f: False, collect=rows)
    assert len(rows.rows()[0]) == 0


def test_nn_budget_with_feature_ema_warns(tmp_path, caplog):
    path = tmp_path / 'tracker.yaml'
    path.write_text('nn_budget: 50\nfeature_ema: 0.9\n')
    with caplog.at_level(logging.WARNING):
        TrackerConfig.from_yaml(path)
    assert 'nn_budget is unused' in caplog.text
    caplog.clear()
    path.write_text('nn_budget: 50\nfeature_ema: 0.0\n')
    with caplog.at_level(logging.WARNING):
        TrackerConfig.from_yaml(path)
    assert 'nn_budget' not in caplog.text


def test_offline_rows_keep_a_relinked_tracks_first_frames_under_the_id_it_takes():
    from perception_deepsort.nn_matching import normalize
    rng = np.random.default_rng(0)
    look = normalize(rng.normal(size=(1, 32)))
    tracker = DeepSort(TrackerConfig(camera_motion=False, relink_lost=True, relink_max_age=120, embedder='none',
                                     output_lost_s=0.0))  # rows of matched frames only
    rows = OfflineRows(first_frames=True)
    hidden = range(20, 60)  # longer than max_age: the person comes back as a new track, relinked
    for f in range(70):
        boxes = np.zeros((0, 4)) if f in hidden else np.array([_box(100 + 2 * f)])
        emb = normalize(look + 0.05 * rng.normal(size=(1, 32)))[:len(boxes)]
        rows.add(f + 1, tracker.update(boxes, np.full(len(boxes), 0.9), np.zeros(len(boxes), int),
                                       timestamp=f / FPS, embeddings=emb))
    frames, ids, _, _ = rows.rows()
    assert len(set(ids.tolist())) == 1  # one id before and after
    assert frames.tolist() == [f + 1 for f in range(70) if f not in hidden]  # the comeback's first frames too
