"""Long run with objects appearing and disappearing: no leaked tracks, bounded galleries."""

import numpy as np

from perception_deepsort.config import TrackerConfig
from perception_deepsort.deep_sort import DeepSort

FRAMES = 10_000
MAX_AGE = 30
RELINK_MAX_AGE = 60  # lost tracks are kept this long for relinking
BUDGET = 20
DIM = 16


def test_ten_thousand_frames_of_churn_leave_no_leaks():
    rng = np.random.default_rng(7)
    tracker = DeepSort(TrackerConfig(camera_motion=False, max_age=MAX_AGE, nn_budget=BUDGET,
                                     feature_ema=0.0, relink_max_age=RELINK_MAX_AGE))
    gallery = tracker.tracker.tracks.gallery
    position, velocity = np.zeros((0, 2)), np.zeros((0, 2))
    looks, frames_left = np.zeros((0, DIM)), np.zeros(0, dtype=int)
    ended_at = np.full(FRAMES, -10 * RELINK_MAX_AGE)  # frame at which each departed object left
    departed = most_tracks = 0
    capacity_after_warmup = None
    for frame in range(FRAMES):
        if rng.random() < 0.06:  # an object appears about every 17 frames, lives 3-300 frames
            position = np.vstack([position, rng.uniform(50, 1800, (1, 2))])
            velocity = np.vstack([velocity, rng.normal(0, 3, (1, 2))])
            looks = np.vstack([looks, rng.normal(size=(1, DIM))])
            frames_left = np.append(frames_left, rng.integers(3, 300))
        position += velocity
        frames_left -= 1
        n = len(position)
        boxes = np.hstack([position, position + [40, 90]])
        tracker.update(boxes, np.full(n, 0.9), np.zeros(n, int), timestamp=frame / 30,
                       embeddings=looks + rng.normal(0, 0.05, looks.shape))
        alive = frames_left > 0
        gone = int((~alive).sum())
        ended_at[departed:departed + gone] = frame
        departed += gone
        position, velocity, looks, frames_left = (position[alive], velocity[alive],
                                                  looks[alive], frames_left[alive])
        tracks = tracker.tracker.tracks
        recently_departed = int((frame - ended_at[:departed] <= RELINK_MAX_AGE + 1).sum())
        # Every track is a visible object or one that left at most relink_max_age frames ago.
        assert len(tracks) <= n + recently_departed
        assert gallery.rows == len(tracks)
        assert gallery.sizes().max(initial=0) <= BUDGET
        most_tracks = max(most_tracks, len(tracks))
        if frame == 1000:
            capacity_after_warmup = gallery.capacity
    for extra in range(RELINK_MAX_AGE + 2):
        tracker.update(np.zeros((0, 4)), [], [], timestamp=(FRAMES + extra) / 30)
    assert len(tracker.tracker.tracks) == 0 and gallery.rows == 0
    assert gallery.capacity <= max(capacity_after_warmup, 2 * most_tracks)
    assert departed > 500  # the scene really churned
