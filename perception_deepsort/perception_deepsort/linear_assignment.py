"""Minimum-cost assignment with a gate, and the paper's matching cascade."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

Matches = tuple[np.ndarray, np.ndarray, np.ndarray]


def _empty() -> np.ndarray:
    """An empty index array."""
    return np.zeros(0, dtype=np.int64)


def min_cost_matching(cost: np.ndarray, max_distance: float,
                      rows: np.ndarray | None = None, cols: np.ndarray | None = None) -> Matches:
    """Optimal assignment on cost[rows][:, cols], rejecting pairs costing more than max_distance.

    Returns (matched rows, matched cols, unmatched rows, unmatched cols) as indices into `cost`;
    matched rows[i] goes with matched cols[i]. Infinite entries are never matched.
    """
    rows = np.arange(cost.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
    cols = np.arange(cost.shape[1]) if cols is None else np.asarray(cols, dtype=np.int64)
    if len(rows) == 0 or len(cols) == 0:
        return _empty(), _empty(), rows, cols
    sub = cost[np.ix_(rows, cols)]
    # Above-gate entries (and inf) become one constant just above the gate: the solver stays
    # feasible and prefers any admissible pair, like the reference implementation.
    sub = np.where(sub > max_distance, max_distance + 1e-5, sub)
    r, c = linear_sum_assignment(sub)
    good = sub[r, c] <= max_distance
    r, c = r[good], c[good]
    return (rows[r], cols[c], np.delete(rows, r), np.delete(cols, c))


def matching_cascade(cost: np.ndarray, max_distance: float, levels: np.ndarray,
                     rows: np.ndarray | None = None, cols: np.ndarray | None = None) -> Matches:
    """Match rows in order of increasing level (frames since update), each against what is left.

    Tracks seen more recently get first pick of the detections (paper, Listing 1).
    Same return convention as min_cost_matching.
    """
    rows = np.arange(cost.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
    cols = np.arange(cost.shape[1]) if cols is None else np.asarray(cols, dtype=np.int64)
    matched_rows, matched_cols = [_empty()], [_empty()]
    for level in np.unique(levels[rows]):
        if len(cols) == 0:
            break
        level_rows = rows[levels[rows] == level]
        r, c, _, cols = min_cost_matching(cost, max_distance, level_rows, cols)
        matched_rows.append(r)
        matched_cols.append(c)
    matched_rows, matched_cols = np.concatenate(matched_rows), np.concatenate(matched_cols)
    return matched_rows, matched_cols, np.setdiff1d(rows, matched_rows), cols
