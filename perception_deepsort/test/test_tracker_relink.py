"""Relinking: a track confirmed after a long occlusion takes over the lost track's id."""

import numpy as np

from perception_deepsort.config import TrackerConfig
from perception_deepsort.nn_matching import normalize
from perception_deepsort.deep_sort import DeepSort, TrackState

FPS = 30.0


def box(cx, cy, w=40.0, h=100.0):
    """xyxy box around a centre."""
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def ids_before_and_after_occlusion(config, comes_back_looking_alike=True, hidden=40):
    """A person walks right at 2 px/frame, is hidden for `hidden` frames, then walks on.

    Returns the set of ids reported before the occlusion and the ids reported at the end.
    """
    rng = np.random.default_rng(0)
    person, stranger = normalize(rng.normal(size=(2, 32)))
    tracker = DeepSort(config)
    before, after = set(), set()
    for frame in range(20 + hidden + 10):
        x = 100 + 2 * frame
        visible = not 20 <= frame < 20 + hidden
        came_back = frame >= 20 + hidden
        look = person if not came_back or comes_back_looking_alike else stranger
        noisy = normalize((look + 0.05 * rng.normal(size=32))[None])
        boxes = np.array([box(x, 200)]) if visible else np.zeros((0, 4))
        outputs = tracker.update(boxes, np.full(len(boxes), 0.9), np.zeros(len(boxes), int),
                                 timestamp=frame / FPS, embeddings=noisy[:len(boxes)])
        ids = {o.track_id for o in outputs if o.state == TrackState.CONFIRMED and o.detection_index >= 0}
        (after if came_back else before).update(ids)
    return before, ids


def test_relink_keeps_the_id_across_an_occlusion_longer_than_max_age():
    off = TrackerConfig(camera_motion=False, relink_lost=False)
    before, end = ids_before_and_after_occlusion(off)
    assert len(before) == 1 and end and end != before  # deleted at max_age: a new id
    on = TrackerConfig(camera_motion=False, relink_lost=True, relink_max_age=120)
    before, end = ids_before_and_after_occlusion(on)
    assert len(before) == 1 and end == before


def test_relink_does_not_give_the_id_to_someone_who_looks_different():
    on = TrackerConfig(camera_motion=False, relink_lost=True, relink_max_age=120)
    before, end = ids_before_and_after_occlusion(on, comes_back_looking_alike=False)
    assert len(before) == 1 and end and end != before


def test_tracks_kept_for_relinking_do_not_enter_the_cascade():
    # Past max_age a lost track may only be relinked: a fresh detection on its predicted
    # position does not match it directly (it starts a tentative track).
    on = TrackerConfig(camera_motion=False, relink_lost=True, relink_max_age=120)
    tracker = DeepSort(on)
    feature = normalize(np.ones((1, 8)))
    for frame in range(5):
        tracker.update(np.array([box(100, 200)]), np.array([0.9]), np.zeros(1, int),
                       timestamp=frame / FPS, embeddings=feature)
    empty = np.zeros((0, 4))
    for frame in range(5, 5 + on.max_age + 2):
        tracker.update(empty, np.zeros(0), np.zeros(0, int), timestamp=frame / FPS)
    outputs = tracker.update(np.array([box(100, 200)]), np.array([0.9]), np.zeros(1, int),
                             timestamp=(on.max_age + 8) / FPS, embeddings=feature)
    assert [o.state for o in outputs] == [TrackState.TENTATIVE]  # the kept track is not reported
    assert len(tracker.tracker.tracks) == 2


def test_tracks_kept_only_for_relinking_are_not_reported():
    on = TrackerConfig(camera_motion=False, relink_lost=True, max_age=3, relink_max_age=120,
                       output_lost_s=0.0)  # a missed track is LOST at once
    tracker = DeepSort(on)
    for frame in range(5):
        tracker.update(np.array([box(100, 200)]), np.array([0.9]), np.zeros(1, int),
                       timestamp=frame / FPS, embeddings=normalize(np.ones((1, 8))))
    states = [[o.state for o in tracker.update(np.zeros((0, 4)), [], [], timestamp=(5 + k) / FPS)]
              for k in range(5)]
    assert states == [[TrackState.LOST], [TrackState.LOST], [TrackState.LOST], [], []]  # as without relinking
    assert len(tracker.tracker.tracks) == 1  # still kept for relinking
