"""Association behaviour of the DeepSORT tracker on small scripted scenes (embeddings given)."""

import numpy as np

from perception_deepsort.config import TrackerConfig
from perception_deepsort.linear_assignment import matching_cascade, min_cost_matching
from perception_deepsort.deep_sort import DeepSort, TrackState

FPS = 30.0


def unit_vectors(n, dim=128, seed=0):
    """n random L2-normalised embeddings (nearly orthogonal in 128-d)."""
    vectors = np.random.default_rng(seed).normal(size=(n, dim))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def box(cx, cy, w=40.0, h=80.0):
    """xyxy box around a centre."""
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def step(tracker, frame, boxes, embeddings, scores=None, class_ids=None):
    """Feed one frame at 30 fps; returns {detection index: track id} of matched tracks."""
    n = len(boxes)
    outputs = tracker.update(np.array(boxes, dtype=float).reshape(-1, 4),
                             np.full(n, 0.9) if scores is None else scores,
                             np.zeros(n, dtype=int) if class_ids is None else class_ids,
                             timestamp=frame / FPS,
                             embeddings=np.array(embeddings).reshape(n, -1) if n else None)
    return {o.detection_index: o.track_id for o in outputs if o.detection_index >= 0}


def config(**overrides):
    """Paper defaults without camera motion (no images in these scenes)."""
    return TrackerConfig(camera_motion=False, **overrides)


def test_min_cost_matching_rejects_above_gate_and_inf():
    cost = np.array([[0.1, 0.5, np.inf], [0.15, np.inf, np.inf], [np.inf, np.inf, np.inf]])
    rows, cols, free_rows, free_cols = min_cost_matching(cost, 0.2)
    # Only column 0 is admissible (for rows 0 and 1); row 0 is cheaper.
    assert rows.tolist() == [0] and cols.tolist() == [0]
    assert free_rows.tolist() == [1, 2] and free_cols.tolist() == [1, 2]


def test_min_cost_matching_resolves_conflicts_optimally():
    cost = np.array([[0.1, 0.12], [0.05, 0.9]])
    rows, cols, _, _ = min_cost_matching(cost, 0.2)
    assert dict(zip(rows.tolist(), cols.tolist())) == {0: 1, 1: 0}


def test_cascade_gives_recently_seen_track_priority():
    cost = np.array([[0.15], [0.05]])  # row 1 is closer but was missed for longer
    levels = np.array([1, 3])
    rows, cols, free_rows, _ = matching_cascade(cost, 0.2, levels)
    assert rows.tolist() == [0] and cols.tolist() == [0] and free_rows.tolist() == [1]
    assert min_cost_matching(cost, 0.2)[0].tolist() == [1]  # a flat assignment would differ


def test_cascade_in_tracker_prefers_recent_track():
    """Two confirmed look-alike tracks, one missed for a few frames: the fresh one wins."""
    tracker = DeepSort(config(cascade_cost='appearance', max_iou_distance=0.0))
    look = unit_vectors(1)[0]
    for f in range(5):
        step(tracker, f, [box(100, 100), box(112, 100)], [look, look])
    ids = step(tracker, 5, [box(100, 100), box(112, 100)], [look, look])
    for f in range(6, 9):  # only the left object is seen
        assert step(tracker, f, [box(100, 100)], [look])[0] == ids[0]
    # A detection between both, inside both gates, equally similar: the recent track takes it.
    assert step(tracker, 9, [box(106, 100)], [look])[0] == ids[0]


def test_gating_rejects_far_detection_despite_identical_appearance():
    tracker = DeepSort(config())
    look = unit_vectors(1)[0]
    for f in range(5):
        first = step(tracker, f, [box(100, 100)], [look])
    jumped = step(tracker, 5, [box(400, 100)], [look])
    assert jumped[0] != first[0]


def test_appearance_gate_rejects_dissimilar_detection_in_cascade():
    tracker = DeepSort(config(cascade_cost='appearance', max_iou_distance=0.0))  # no IoU fallback
    a, b = unit_vectors(2)
    for f in range(5):
        first = step(tracker, f, [box(100, 100)], [a])
    assert step(tracker, 5, [box(101, 100)], [b])[0] != first[0]
    assert step(tracker, 6, [box(102, 100)], [a])[0] == first[0]


def crossing(tracker, frames=60, hide=range(28, 33)):
    """Two objects crossing horizontally; the rear one is hidden while they overlap."""
    looks = unit_vectors(2, seed=3)
    history = []
    for f in range(frames):
        left, right = 100 + 4 * f, 340 - 4 * f
        boxes, embeddings = [box(left, 200)], [looks[0]]
        if f not in hide:
            boxes.append(box(right, 206))
            embeddings.append(looks[1])
        history.append(step(tracker, f, boxes, embeddings))
    return history


def test_crossing_objects_keep_their_ids():
    history = crossing(DeepSort(config()))
    assert history[10][0] == history[-1][0]
    assert history[10][1] == history[-1][1]
    assert history[10][0] != history[10][1]


def occlusion_with_distractor(tracker):
    """A walks behind an occluder and slows down; B (new, different look) appears where A was
    expected; A reappears later. Returns A's id before and after, and B's id."""
    look_a, look_b = unit_vectors(2, seed=5)
    f = 0
    for f in range(15):  # A visible, moving right at 4 px/frame
        before = step(tracker, f, [box(100 + 4 * f, 200, 60, 120)], [look_a])[0]
    x_a = 100 + 4 * 14
    b_id = None
    for g in range(1, 26):  # A hidden for 25 frames, moving at 2 px/frame
        x_a += 2
        f += 1
        if g >= 8:  # B shows up near A's predicted position and stands still
            seen = step(tracker, f, [box(100 + 4 * (14 + 8), 200, 60, 120)], [look_b])
            b_id = seen[0]
        else:
            step(tracker, f, [], [])
    after = None
    for g in range(5):  # A is back, B still there
        x_a += 2
        f += 1
        seen = step(tracker, f, [box(x_a, 200, 60, 120), box(100 + 4 * 22, 200, 60, 120)],
                    [look_a, look_b])
        after, b_id = seen[0], seen[1]
    return before, after, b_id


def test_long_occlusion_bridged_by_appearance():
    # The paper's appearance cascade; the default adaptive cost needs overlapping boxes.
    before, after, b_id = occlusion_with_distractor(DeepSort(config(cascade_cost='appearance')))
    assert after == before
    assert b_id != before


def test_long_occlusion_not_bridged_by_motion_only():
    before, after, b_id = occlusion_with_distractor(DeepSort(config(use_appearance=False)))
    assert after != before  # the distractor took A's track, A came back as a new one
    assert b_id == before


def test_class_aware_association_never_mixes_classes():
    look = unit_vectors(1)[0]
    for aware, expect_same in ((True, False), (False, True)):
        tracker = DeepSort(config(class_aware=aware))
        for f in range(5):
            car = step(tracker, f, [box(100, 100)], [look], class_ids=[2])
        person = step(tracker, 5, [box(100, 100)], [look], class_ids=[0])
        assert (person[0] == car[0]) is expect_same
    outputs = tracker.update(np.zeros((0, 4)), [], [], timestamp=6 / FPS)
    assert {o.class_id for o in outputs} == {0}  # without class-awareness the class follows


def test_low_score_detection_keeps_track_alive():
    look = unit_vectors(1)[0]
    for second_pass, expect_state in ((True, TrackState.CONFIRMED), (False, TrackState.LOST)):
        tracker = DeepSort(config(low_score_pass=second_pass, output_lost_s=0.0))  # missed: LOST
        for f in range(5):
            ids = step(tracker, f, [box(100 + 3 * f, 100)], [look])
        outputs = tracker.update(np.array([box(115, 100)]), [0.3], [0], timestamp=5 / FPS,
                                 embeddings=look[None])
        track = next(o for o in outputs if o.track_id == ids[0])
        assert track.state == expect_state
        assert track.detection_index == (0 if second_pass else -1)
        assert len(outputs) == 1  # a low-score detection never starts a track


def test_low_score_detections_do_not_enter_the_gallery():
    tracker = DeepSort(config(feature_ema=0.0))  # a gallery counts its samples
    look = unit_vectors(1)[0]
    for f in range(5):
        step(tracker, f, [box(100, 100)], [look])
    tracker.update(np.array([box(100, 100)]), [0.3], [0], timestamp=5 / FPS,
                   embeddings=look[None])
    assert tracker.tracker.tracks.gallery.sizes().tolist() == [5]
