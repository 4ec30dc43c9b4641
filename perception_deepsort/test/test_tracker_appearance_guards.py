"""Appearance guards: crowded crops, stale tracks, ambiguous relinks (small hand-made scenes)."""

import numpy as np

from perception_deepsort.config import TrackerConfig
from perception_deepsort.kalman_filter import Innovation
from perception_deepsort.nn_matching import FeatureGallery
from perception_deepsort.deep_sort import DeepSort, TrackState
from perception_deepsort.relink import relink_pairs

FPS = 30.0
A, B = np.eye(8)[0], np.eye(8)[1]  # two orthogonal looks


def box(cx, cy=200.0, w=40.0, h=100.0):
    """xyxy box around a centre."""
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def step(tracker, frame, boxes, features):
    """One update with high-score detections; returns the outputs."""
    boxes = np.array(boxes, dtype=float).reshape(-1, 4)
    return tracker.update(boxes, np.full(len(boxes), 0.9), np.zeros(len(boxes), int),
                          timestamp=frame / FPS, embeddings=np.array(features).reshape(-1, 8))


def look_after_crossing(crowd_iou):
    """Cosine similarity to its own look of a track whose crops showed a passer-by too."""
    tracker = DeepSort(TrackerConfig(camera_motion=False, crowd_iou=crowd_iou))
    for frame in range(10):
        step(tracker, frame, [box(100)], [A])
    # B stands half over A for 10 frames: A's crop is mostly B.
    for frame in range(10, 20):
        step(tracker, frame, [box(100), box(112)], [0.3 * A + B, B])
    track_a = int(np.flatnonzero(tracker.tracker.tracks.ids == 1)[0])
    return float(tracker.tracker.tracks.gallery.newest(np.array([track_a]))[0] @ A)


def test_crowded_crops_do_not_update_the_appearance():
    assert look_after_crossing(crowd_iou=0.0) < 0.8  # the EMA drifted towards B
    assert look_after_crossing(crowd_iou=0.3) > 0.99


def id_of_look_alike_at_a_stale_track(config):
    """A track lost for 10 frames; someone else (cosine distance 0.5) appears right on it."""
    tracker = DeepSort(config)
    for frame in range(10):
        step(tracker, frame, [box(100)], [A])
    for frame in range(10, 20):
        step(tracker, frame, [], [])
    outputs = step(tracker, 20, [box(100)], [0.5 * A + 0.866 * B])
    return [(o.track_id, o.state) for o in outputs if o.detection_index >= 0]


def test_stale_tracks_need_appearance_agreement():
    loose = TrackerConfig(camera_motion=False)
    assert id_of_look_alike_at_a_stale_track(loose) == [(1, TrackState.CONFIRMED)]  # overlap decides
    strict = TrackerConfig(camera_motion=False, stale_frames=3, stale_cosine_distance=0.3)
    assert id_of_look_alike_at_a_stale_track(strict) == [(2, TrackState.TENTATIVE)]


def test_relink_margin_refuses_an_ambiguous_relink():
    # Two lost tracks (rows 0, 1) predicted at the same place, one new track (row 2) between
    # them that looks slightly more like row 0.
    gallery = FeatureGallery(budget=5)
    gallery.add_rows(3)
    new_look = np.array([[0.72, 0.69] + [0.0] * 6], dtype=np.float32)
    new_look /= np.linalg.norm(new_look)
    gallery.append(np.arange(3), np.vstack([A, B, new_look[0]]).astype(np.float32))
    projected = np.array([[100.0, 200.0, 0.4, 100.0]] * 3)
    innovation = Innovation(projected, np.repeat(np.eye(4)[None] / 25.0, 3, axis=0))
    lost, new, same_class = np.array([0, 1]), np.array([2]), np.ones((2, 1), dtype=bool)
    args = (gallery, innovation, lost, new, projected[new], new_look, same_class, 0.4)
    assert relink_pairs(*args, margin=0.0)[0].tolist() == [0]
    assert relink_pairs(*args, margin=0.05)[0].tolist() == []
    one_lost = (gallery, innovation, lost[:1], new, projected[new], new_look, same_class[:1], 0.4)
    assert relink_pairs(*one_lost, margin=0.05)[0].tolist() == [0]  # no rival: relinked
