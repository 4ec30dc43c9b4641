"""Minimum-cost assignment with a gate, and the paper's matching cascade."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

Matches = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _optimal_pairs(cost: np.ndarray, max_distance: float) -> tuple[np.ndarray, np.ndarray]:
    """Indices (rows, cols) of the optimal assignment using only entries <= max_distance.

    Equivalent to the reference (above-gate entries set to max_distance + 1e-5, then solved on
    the whole matrix): that objective only rewards admissible pairs, so rows and columns
    without any can be left out, and an assignment without conflicts needs no solver.
    """
    admissible = cost <= max_distance
    busy_rows = np.flatnonzero(admissible.any(axis=1))
    busy_cols = np.flatnonzero(admissible.any(axis=0))
    if len(busy_rows) == len(busy_cols) == np.count_nonzero(admissible):
        return np.nonzero(admissible)  # every admissible row and column has exactly one pair
    sub = cost[np.ix_(busy_rows, busy_cols)]
    sub = np.where(sub <= max_distance, sub, max_distance + 1e-5)
    r, c = linear_sum_assignment(sub)
    good = sub[r, c] <= max_distance
    return busy_rows[r[good]], busy_cols[c[good]]


def _all_but(indices: np.ndarray, taken: np.ndarray) -> np.ndarray:
    """indices without the positions `taken`."""
    keep = np.ones(len(indices), dtype=bool)
    keep[taken] = False
    return indices[keep]


def min_cost_matching(cost: np.ndarray, max_distance: float,
                      rows: np.ndarray | None = None, cols: np.ndarray | None = None) -> Matches:
    """Optimal assignment on cost[rows][:, cols], rejecting pairs costing more than max_distance.

    Returns (matched rows, matched cols, unmatched rows, unmatched cols) as indices into `cost`;
    matched rows[i] goes with matched cols[i]. Infinite entries are never matched.
    """
    rows = np.arange(cost.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
    cols = np.arange(cost.shape[1]) if cols is None else np.asarray(cols, dtype=np.int64)
    if len(rows) == 0 or len(cols) == 0:
        return rows[:0], cols[:0], rows, cols
    r, c = _optimal_pairs(cost[np.ix_(rows, cols)], max_distance)
    return rows[r], cols[c], _all_but(rows, r), _all_but(cols, c)


def matching_cascade(cost: np.ndarray, max_distance: float, levels: np.ndarray,
                     rows: np.ndarray | None = None, cols: np.ndarray | None = None) -> Matches:
    """Match rows in order of increasing level (frames since update), each against what is left.

    Tracks seen more recently get first pick of the detections (paper, Listing 1).
    Same return convention as min_cost_matching.
    """
    rows = np.arange(cost.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
    cols = np.arange(cost.shape[1]) if cols is None else np.asarray(cols, dtype=np.int64)
    matched_rows, matched_cols = [rows[:0]], [cols[:0]]
    # Rows without any admissible detection cannot match at any level: skip their levels.
    hopeful = rows[(cost[rows] <= max_distance).any(axis=1)] if len(cols) else rows[:0]
    for level in sorted(set(levels[hopeful].tolist())):
        r, c, _, cols = min_cost_matching(cost, max_distance, hopeful[levels[hopeful] == level],
                                          cols)
        matched_rows.append(r)
        matched_cols.append(c)
        if len(cols) == 0:
            break
    matched_rows, matched_cols = np.concatenate(matched_rows), np.concatenate(matched_cols)
    unmatched = np.ones(cost.shape[0], dtype=bool)
    unmatched[matched_rows] = False
    return matched_rows, matched_cols, rows[unmatched[rows]], cols
