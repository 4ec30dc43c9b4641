"""FrameTracker through a detector outage (down, restarting): images keep coming, ids are kept."""
import numpy as np
import pytest

from perception_deepsort.config import TrackerConfig
from perception_deepsort.deep_sort import TrackState, confirmed_tracks
from perception_deepsort.frame_tracker import TRACKS, FrameTracker
from perception_ros_glue.detections import Detections

FPS = 30.0
LOOK = np.random.default_rng(1).normal(size=(2, 64)).astype(np.float32)


def boxes(frame, speed=2.0):
    """Two 40x80 boxes, one moving right, one moving left, `speed` px per frame."""
    a, b = 50 + speed * frame, 500 - speed * frame
    return np.array([[a, 100, a + 40, 180], [b, 300, b + 40, 380]], dtype=float)


def stamp(frame):
    """Stamp in ns of a 30 Hz frame."""
    return int(round(frame / FPS * 1e9))


def engine(**changes):
    """A FrameTracker fed stamps only (no pixels: Kalman prediction between detections)."""
    tracker = FrameTracker(TrackerConfig(camera_motion=False, box_flow=False, n_init=2, **changes))
    tracker.expect_masks = False
    return tracker


def tracked(tracker, frame, speed=2.0):
    """Both boxes detected at `frame` (in time); returns {detection index: track id}."""
    tracker.detections(stamp(frame), 'cam', Detections(boxes(frame, speed), [0.9, 0.9], [0, 0],
                                                       ['person']), 0.0, embeddings=LOOK)
    [output] = [o for o in tracker.image(stamp(frame), 'cam', None, 0.0) if o.kind == TRACKS]
    return {o.detection_index: o.track_id for o in output.tracks if o.detection_index >= 0}


def outage(tracker, frames):
    """Images without detections; returns the last frame's tracks."""
    for f in frames:
        [output] = tracker.image(stamp(f), 'cam', None, 0.0)
    return output.tracks


def test_predicted_frames_follow_the_motion_and_leave_the_life_cycle_alone():
    tracker = engine()
    for f in range(30):
        ids = tracked(tracker, f)
    predicted = outage(tracker, range(30, 36))
    assert {o.track_id for o in predicted} == set(ids.values())
    assert all(o.predicted and o.state is TrackState.CONFIRMED and o.detection_index == -1
               for o in predicted)
    # The boxes are the motion prediction: 6 frames further along at the estimated velocity.
    first = next(o for o in predicted if o.track_id == ids[0])
    np.testing.assert_allclose(first.box, boxes(35)[0], atol=2.0)
    assert first.time_since_update == pytest.approx(35 / FPS - 29 / FPS)
    assert first.hits == 30 and first.age == 30  # detection frames: frames without are no misses


def test_ids_kept_when_detections_return_after_a_long_outage():
    # 60 frames (2 s at 30 Hz) without detections, more than max_age: none is a miss.
    tracker = engine(max_age=30)
    for f in range(20):
        ids = tracked(tracker, f)
    outage(tracker, range(20, 80))
    assert tracked(tracker, 80) == ids


@pytest.mark.parametrize('speed', [2.0, 6.0])
def test_ids_kept_for_fast_objects_too_once_relinked(speed):
    # 6 px a frame for 2 s: the prediction misses, the new tracks are relinked when confirmed.
    tracker = engine(max_age=30)
    for f in range(10):
        ids = tracked(tracker, f, speed)
    outage(tracker, range(10, 70))
    after = [tracked(tracker, f, speed) for f in range(70, 73)]
    assert after[-1] == ids


def test_tentative_tracks_are_not_shown_and_nothing_before_the_first_detections():
    tracker = FrameTracker(TrackerConfig(camera_motion=False, box_flow=False, n_init=3))
    tracker.expect_masks = False
    assert outage(tracker, [0]) == []
    tracked(tracker, 1)
    assert confirmed_tracks(outage(tracker, [2])) == []
