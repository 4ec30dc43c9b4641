"""Appearance weighted by its margin over the alternatives: values worked out by hand."""

import numpy as np
import pytest

from perception_deepsort.appearance_weight import appearance_margin, appearance_weight, weighted_cost
from perception_deepsort.config import TrackerConfig
from perception_deepsort.deep_sort import DeepSort, TrackState


def test_margin_is_distance_to_the_best_other_candidate_of_row_and_column():
    # Pairs of a 2x3 problem: track 0 with detections 0, 1, 2; track 1 with detection 0.
    r, c = np.array([0, 0, 0, 1]), np.array([0, 1, 2, 0])
    cosine = np.array([0.10, 0.30, 0.50, 0.25])
    margin = appearance_margin(r, c, cosine, (2, 3))
    # (0,0): row alternatives 0.30, 0.50 -> 0.30; column alternative 0.25 -> min 0.25 - 0.10.
    # (0,1): row alternatives 0.10 -> 0.10 - 0.30; no column rival.
    # (0,2): 0.10 - 0.50.  (1,0): no row rival; column alternative 0.10 -> 0.10 - 0.25.
    assert margin == pytest.approx([0.15, -0.20, -0.40, -0.15])


def test_a_lone_candidate_has_infinite_margin_and_full_weight():
    r, c, cosine = np.array([0]), np.array([0]), np.array([0.4])
    assert appearance_margin(r, c, cosine, (1, 1))[0] == np.inf
    assert appearance_weight(r, c, cosine, (1, 1), scale=0.1)[0] == 1.0


def test_identical_embeddings_give_zero_weight():
    r, c = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    weight = appearance_weight(r, c, np.zeros(4), (2, 2), scale=0.1)
    assert weight.tolist() == [0.0] * 4


def test_weight_grows_linearly_with_the_margin_up_to_the_scale():
    r, c = np.array([0, 0]), np.array([0, 1])
    weight = appearance_weight(r, c, np.array([0.1, 0.15]), (1, 2), scale=0.1)
    assert weight == pytest.approx([0.5, 0.0])
    assert appearance_weight(r, c, np.array([0.1, 0.15]), (1, 2), scale=0.0).tolist() == [1.0, 1.0]


def test_weighted_cost_moves_from_iou_distance_to_botsort_min():
    iou_distance, cosine = np.array([0.6, 0.6, 0.6, 0.2]), np.array([0.1, 0.1, 0.1, 0.5])
    cost = weighted_cost(iou_distance, cosine, np.array([0.0, 0.5, 1.0, 1.0]))
    assert cost == pytest.approx([0.6, 0.35, 0.1, 0.2])  # appearance never raises the cost


def box(cx, cy=200.0, w=40.0, h=100.0):
    """xyxy box around a centre."""
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def crossing_ids(embeddings_for):
    """Two people walk towards each other and cross; ids of the left-starting one on the way."""
    tracker = DeepSort(TrackerConfig(camera_motion=False))
    ids = []
    for frame in range(40):
        xs = [100 + 4 * frame, 260 - 4 * frame]
        outputs = tracker.update(np.array([box(x) for x in xs]), np.full(2, 0.9), np.zeros(2, int),
                                 timestamp=frame / 30, embeddings=embeddings_for(frame))
        ids.append({o.detection_index: o.track_id for o in outputs if o.state == TrackState.CONFIRMED}.get(0))
    return [i for i in ids if i is not None]


def test_identical_embeddings_leave_a_crossing_to_motion():
    # Both people look the same: appearance must not decide, the constant velocities do.
    same = np.ones((2, 8), np.float32)
    ids = crossing_ids(lambda frame: same)
    assert len(set(ids)) == 1 and len(ids) >= 35
