"""The tracker's shortcuts (sparse costs, assignment without a solver) match the plain forms."""

import numpy as np
from scipy.optimize import linear_sum_assignment

from perception_deepsort.detection import xyah_to_xyxy, xyxy_to_xyah
from perception_deepsort.iou_matching import iou, paired_iou
from perception_deepsort.linear_assignment import matching_cascade, min_cost_matching


def reference_matching(cost, max_distance, rows, cols):
    """Reference DeepSORT min_cost_matching: solve the whole gated matrix, drop bad pairs."""
    if len(rows) == 0 or len(cols) == 0:
        return []
    sub = cost[np.ix_(rows, cols)]
    sub = np.where(sub > max_distance, max_distance + 1e-5, sub)
    r, c = linear_sum_assignment(sub)
    return [(rows[i], cols[j]) for i, j in zip(r, c) if sub[i, j] <= max_distance]


def reference_cascade(cost, max_distance, levels, rows, cols):
    """Reference matching cascade: level by level against the columns still free."""
    pairs, cols = [], list(cols)
    for level in sorted(set(levels[rows].tolist())):
        found = reference_matching(cost, max_distance,
                                   [r for r in rows if levels[r] == level], cols)
        pairs += found
        cols = [c for c in cols if c not in {p[1] for p in found}]
    return pairs


def random_cost(rng):
    """A small cost matrix with inf holes and some conflicting admissible pairs."""
    n_rows, n_cols = rng.integers(0, 9, 2)
    cost = rng.uniform(0.0, 1.0, (n_rows, n_cols))
    cost[rng.random((n_rows, n_cols)) < 0.6] = np.inf
    return cost


def test_assignment_matches_reference_on_random_matrices():
    rng = np.random.default_rng(3)
    for _ in range(500):
        cost = random_cost(rng)
        levels = rng.integers(1, 4, cost.shape[0])
        rows = np.sort(rng.choice(cost.shape[0], rng.integers(0, cost.shape[0] + 1), False))
        cols = np.sort(rng.choice(cost.shape[1], rng.integers(0, cost.shape[1] + 1), False))
        for r, c in ((None, None), (rows, None), (None, cols), (rows, cols)):
            all_r = np.arange(cost.shape[0]) if r is None else r
            all_c = np.arange(cost.shape[1]) if c is None else c
            got_r, got_c, free_r, free_c = min_cost_matching(cost, 0.5, r, c)
            expected = reference_matching(cost, 0.5, all_r, all_c)
            assert sorted(zip(got_r.tolist(), got_c.tolist())) == sorted(expected)
            assert sorted(free_r.tolist() + got_r.tolist()) == all_r.tolist()
            assert sorted(free_c.tolist() + got_c.tolist()) == all_c.tolist()
            got_r, got_c, free_r, free_c = matching_cascade(cost, 0.5, levels, r, c)
            expected = reference_cascade(cost, 0.5, levels, all_r.tolist(), all_c.tolist())
            assert sorted(zip(got_r.tolist(), got_c.tolist())) == sorted(expected)
            assert sorted(free_r.tolist() + got_r.tolist()) == all_r.tolist()
            assert free_c.tolist() == [c for c in all_c.tolist() if c not in got_c.tolist()]


def test_paired_iou_equals_the_matrix_entries():
    rng = np.random.default_rng(4)
    corners = rng.uniform(0, 100, (30, 2))
    boxes = np.hstack([corners, corners + rng.uniform(1, 40, (30, 2))])
    matrix = iou(boxes[:12], boxes[12:])
    r, c = np.nonzero(rng.random(matrix.shape) < 0.5)
    assert np.array_equal(paired_iou(boxes[:12][r], boxes[12:][c]), matrix[r, c])
    assert np.allclose(np.diag(iou(boxes, boxes)), 1.0)


def test_box_conversions_round_trip():
    rng = np.random.default_rng(5)
    corners = rng.uniform(0, 100, (20, 2))
    boxes = np.hstack([corners, corners + rng.uniform(1, 40, (20, 2))])
    assert np.allclose(xyah_to_xyxy(xyxy_to_xyah(boxes)), boxes)
    assert xyah_to_xyxy(np.zeros((0, 4))).shape == (0, 4)
