"""Time handling: real-time steps across dropped frames, backwards time, reset, max_age_s."""

import logging

import numpy as np

from perception_deepsort.config import TrackerConfig
from perception_deepsort.deep_sort import DeepSort, TrackState

FPS = 30.0
LOOK = np.random.default_rng(0).normal(size=(1, 128))


def moving_box(frame, speed=12.0):
    """A 40x80 box moving right at `speed` px per frame."""
    x = 50 + speed * frame
    return np.array([[x, 100, x + 40, 180]])


def run(tracker, frames, speed=12.0):
    """Feed the moving box at the given frame numbers (stamps frame / 30 s); returns ids."""
    ids = []
    for f in frames:
        outputs = tracker.update(moving_box(f, speed), [0.9], [0], timestamp=f / FPS,
                                 embeddings=LOOK)
        ids.append(next(o.track_id for o in outputs if o.detection_index == 0))
    return ids


def test_dropped_frames_keep_ids_with_time_based_prediction():
    # Frames 10..17 are dropped: the box moves 108 px (2.7 widths) between two updates.
    frames = list(range(10)) + list(range(18, 30))
    ids = run(DeepSort(TrackerConfig(camera_motion=False)), frames)
    assert len(set(ids)) == 1


def test_dropped_frames_break_frame_based_prediction():
    frames = list(range(10)) + list(range(18, 30))
    ids = run(DeepSort(TrackerConfig(camera_motion=False, time_based=False)), frames)
    assert len(set(ids)) > 1


def test_velocity_is_reported_in_pixels_per_second():
    tracker = DeepSort(TrackerConfig(camera_motion=False))
    assert len(set(run(tracker, range(0, 40, 2), speed=6.0))) == 1  # 15 fps stream, 180 px/s
    track = tracker.update(moving_box(40, 6.0), [0.9], [0], timestamp=40 / FPS,
                           embeddings=LOOK)[0]
    assert abs(track.velocity[0] - 6.0 * FPS) < 3.0 and abs(track.velocity[1]) < 3.0


def test_time_going_backwards_resets_and_never_reuses_ids(caplog):
    tracker = DeepSort(TrackerConfig(camera_motion=False))
    first = run(tracker, range(10))
    with caplog.at_level(logging.WARNING):
        outputs = tracker.update(moving_box(0), [0.9], [0], timestamp=0.0, embeddings=LOOK)
    assert 'backwards' in caplog.text
    assert tracker.stats['resets'] == 1
    assert len(outputs) == 1 and outputs[0].track_id > first[0]
    assert outputs[0].state == TrackState.TENTATIVE and outputs[0].hits == 1


def test_explicit_reset_can_restart_ids():
    tracker = DeepSort(TrackerConfig(camera_motion=False, n_init=1))
    run(tracker, range(3))
    tracker.reset()
    assert tracker.update(moving_box(0), [0.9], [0], timestamp=0.0)[0].track_id == 2
    tracker.reset(restart_ids=True)
    assert tracker.update(moving_box(0), [0.9], [0], timestamp=0.0)[0].track_id == 1


def test_missing_timestamps_step_one_nominal_frame():
    tracker = DeepSort(TrackerConfig(camera_motion=False))
    for f in range(5):
        outputs = tracker.update(moving_box(f), [0.9], [0], embeddings=LOOK)
    assert outputs[0].hits == 5
    lost = tracker.update(np.zeros((0, 4)), [], [])[0]
    assert abs(lost.time_since_update - 1 / FPS) < 1e-9


def test_max_age_in_seconds_deletes_stale_tracks():
    tracker = DeepSort(TrackerConfig(camera_motion=False, max_age_s=0.5))
    run(tracker, range(5))
    assert len(tracker.update(np.zeros((0, 4)), [], [], timestamp=0.4)) == 1
    assert tracker.update(np.zeros((0, 4)), [], [], timestamp=0.8) == []


def test_max_age_in_frames_deletes_lost_tracks():
    # relink_max_age=0: no extra retention for relinking, so max_age alone decides.
    tracker = DeepSort(TrackerConfig(camera_motion=False, max_age=3, relink_max_age=0,
                                     output_lost_s=0.0))  # a missed track is LOST at once
    run(tracker, range(5))
    states = [[o.state for o in tracker.update(np.zeros((0, 4)), [], [], timestamp=(5 + k) / FPS)]
              for k in range(4)]
    assert states == [[TrackState.LOST], [TrackState.LOST], [TrackState.LOST], []]
