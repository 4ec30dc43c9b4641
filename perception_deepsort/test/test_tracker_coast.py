"""DeepSort.coast: motion-only predictions for frames without detections (detector down)."""
import numpy as np
import pytest

from perception_deepsort.config import TrackerConfig
from perception_deepsort.deep_sort import DeepSort, TrackState

FPS = 30.0
LOOK = np.random.default_rng(1).normal(size=(2, 64))


def boxes(frame, speed=2.0):
    """Two 40x80 boxes, one moving right, one moving left, `speed` px per frame."""
    a, b = 50 + speed * frame, 500 - speed * frame
    return np.array([[a, 100, a + 40, 180], [b, 300, b + 40, 380]], dtype=float)


def tracked(tracker, frame, speed=2.0):
    """Update with both boxes at `frame`; returns {detection index: track id}."""
    out = tracker.update(boxes(frame, speed), [0.9, 0.9], [0, 0], timestamp=frame / FPS,
                         embeddings=LOOK)
    return {o.detection_index: o.track_id for o in out if o.detection_index >= 0}


def snapshot(tracker):
    """Copies of the tracker's per-track arrays (to check that coasting changes nothing)."""
    t = tracker.tracker.tracks
    return {name: getattr(t, name).copy() for name in t.ARRAYS}


def test_coast_predicts_confirmed_tracks_without_changing_the_tracker():
    tracker = DeepSort(TrackerConfig(camera_motion=False, n_init=2))
    for f in range(30):
        ids = tracked(tracker, f)
    before = snapshot(tracker)
    coasted = tracker.coast(35 / FPS)
    assert {o.track_id for o in coasted} == set(ids.values())
    assert all(o.predicted and o.state is TrackState.LOST and o.detection_index == -1
               for o in coasted)
    # The boxes are the motion prediction: 6 frames further along at the estimated velocity.
    first = next(o for o in coasted if o.track_id == ids[0])
    np.testing.assert_allclose(first.box, boxes(35)[0], atol=2.0)
    assert first.time_since_update == np.float64(35 / FPS - 29 / FPS)
    after = snapshot(tracker)
    assert all(np.array_equal(before[k], after[k]) for k in before)
    assert tracker.stats['coasted_frames'] == 1


def test_ids_kept_when_detections_return_after_a_long_outage():
    # 60 frames (2 s at 30 Hz) coasted, more than max_age: coasting alone must not delete tracks.
    tracker = DeepSort(TrackerConfig(camera_motion=False, n_init=2, max_age=30))
    for f in range(20):
        ids = tracked(tracker, f)
    for f in range(20, 80):
        tracker.coast(f / FPS)
    assert tracked(tracker, 80) == ids  # the prediction over the gap still overlaps


@pytest.mark.parametrize('speed', [2.0, 6.0])
def test_ids_kept_for_fast_objects_too_once_relinked(speed):
    # 6 px a frame for 2 s: the prediction misses, the new tracks are relinked when confirmed.
    tracker = DeepSort(TrackerConfig(camera_motion=False, n_init=2, max_age=30))
    for f in range(10):
        ids = tracked(tracker, f, speed)
    for f in range(10, 70):
        tracker.coast(f / FPS)
    after = [tracked(tracker, f, speed) for f in range(70, 73)]
    assert after[-1] == ids
    # ... and the outage counted as one missed frame, as if the frames had never come.
    assert not any(o.predicted for o in tracker.coast(71 / FPS))


def test_coasting_reports_up_to_max_age_frames_without_a_match():
    tracker = DeepSort(TrackerConfig(camera_motion=False, n_init=2, max_age=5))
    for f in range(4):
        tracked(tracker, f)
    counts = [len(tracker.coast(f / FPS)) for f in range(4, 12)]
    assert counts == [2, 2, 2, 2, 2, 0, 0, 0]


def test_tentative_tracks_are_not_coasted_and_nothing_before_the_first_frame():
    tracker = DeepSort(TrackerConfig(camera_motion=False, n_init=3))
    assert tracker.coast(0.0) == []
    tracked(tracker, 0)
    assert tracker.coast(1 / FPS) == []


def test_a_late_detection_older_than_a_coasted_frame_is_tracked_normally():
    # A slow detector answers for frame 6 after frame 8 was coasted: the tracker's state is
    # still at frame 5, so frame 6 is an ordinary next frame.
    tracker = DeepSort(TrackerConfig(camera_motion=False, n_init=2))
    for f in range(6):
        ids = tracked(tracker, f)
    tracker.coast(8 / FPS)
    assert tracked(tracker, 6) == ids
    assert tracker.stats['resets'] == 0
    assert tracker.coast(5 / FPS) == []  # older than the last tracked frame: nothing
