"""Minimum-cost assignment with a gate, and the paper's matching cascade."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

Matches = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _optimal_pairs(cost: np.ndarray, admissible: np.ndarray, max_distance: float,
                   rows: np.ndarray | None, cols: np.ndarray | None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Optimal assignment (positions in rows, cols) of cost[rows][:, cols], entries <= max_distance.

    admissible is cost <= max_distance; rows / cols None select every row / column (no copy).
    Equivalent to the reference (above-gate entries set to max_distance + 1e-5, then solved on
    the whole matrix): that objective only rewards admissible pairs, so rows and columns
    without any can be left out, and an assignment without conflicts needs no solver.
    """
    if rows is not None:
        admissible = admissible[rows]
    if cols is not None:
        admissible = admissible[:, cols]
    r, c = np.nonzero(admissible)
    row_pairs, col_pairs = np.bincount(r), np.bincount(c)
    if row_pairs.max(initial=0) <= 1 and col_pairs.max(initial=0) <= 1:
        return r, c  # every admissible row and column has exactly one pair
    busy_rows, busy_cols = np.flatnonzero(row_pairs), np.flatnonzero(col_pairs)
    sub = cost[busy_rows if rows is None else rows[busy_rows]]
    sub = sub[:, busy_cols if cols is None else cols[busy_cols]]
    sub = np.where(sub <= max_distance, sub, max_distance + 1e-5)
    r, c = linear_sum_assignment(sub)
    good = sub[r, c] <= max_distance
    return busy_rows[r[good]], busy_cols[c[good]]


def _all_but(indices: np.ndarray, taken: np.ndarray) -> np.ndarray:
    """indices without the positions `taken`."""
    keep = np.ones(len(indices), dtype=bool)
    keep[taken] = False
    return indices[keep]


def _matching(cost: np.ndarray, admissible: np.ndarray, max_distance: float,
              rows: np.ndarray | None, cols: np.ndarray | None) -> Matches:
    """min_cost_matching given admissible = cost <= max_distance; None rows / cols = all."""
    all_rows, all_cols = rows is None, cols is None
    rows = np.arange(cost.shape[0]) if all_rows else np.asarray(rows, dtype=np.int64)
    cols = np.arange(cost.shape[1]) if all_cols else np.asarray(cols, dtype=np.int64)
    if len(rows) == 0 or len(cols) == 0:
        return rows[:0], cols[:0], rows, cols
    r, c = _optimal_pairs(cost, admissible, max_distance, None if all_rows else rows,
                          None if all_cols else cols)
    return rows[r], cols[c], _all_but(rows, r), _all_but(cols, c)


def min_cost_matching(cost: np.ndarray, max_distance: float,
                      rows: np.ndarray | None = None, cols: np.ndarray | None = None) -> Matches:
    """Optimal assignment on cost[rows][:, cols], rejecting pairs costing more than max_distance.

    Returns (matched rows, matched cols, unmatched rows, unmatched cols) as indices into `cost`;
    matched rows[i] goes with matched cols[i]. Infinite entries are never matched.
    """
    return _matching(cost, cost <= max_distance, max_distance, rows, cols)


def matching_cascade(cost: np.ndarray, max_distance: float, levels: np.ndarray,
                     rows: np.ndarray | None = None, cols: np.ndarray | None = None) -> Matches:
    """Match rows in order of increasing level (frames since update), each against what is left.

    Tracks seen more recently get first pick of the detections (paper, Listing 1).
    Same return convention as min_cost_matching.
    """
    admissible = cost <= max_distance  # once for every level
    everything = rows is None and cols is None
    rows = np.arange(cost.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
    cols = np.arange(cost.shape[1]) if cols is None else np.asarray(cols, dtype=np.int64)
    matched_rows, matched_cols = [rows[:0]], [cols[:0]]
    # Rows without any admissible detection cannot match at any level: skip their levels.
    hopeful = rows[admissible.any(axis=1)[rows]] if len(cols) else rows[:0]
    hopeful_levels = levels[hopeful]
    everything = everything and len(hopeful) == len(rows)
    for level in sorted(set(hopeful_levels.tolist())):
        level_rows = hopeful[hopeful_levels == level]
        if everything and len(level_rows) == len(hopeful):
            level_rows = cols = None  # one level over the whole matrix: no copies
        r, c, _, cols = _matching(cost, admissible, max_distance, level_rows, cols)
        matched_rows.append(r)
        matched_cols.append(c)
        if len(cols) == 0:
            break
    matched_rows, matched_cols = np.concatenate(matched_rows), np.concatenate(matched_cols)
    unmatched = np.ones(cost.shape[0], dtype=bool)
    unmatched[matched_rows] = False
    return matched_rows, matched_cols, rows[unmatched[rows]], cols
