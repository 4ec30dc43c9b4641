"""Minimum-cost assignment with a gate, and the paper's matching cascade.

The solvers work on the admissible pairs (cost <= max_distance) only, so the tracker can hand
over the few pairs inside its gates instead of a mostly infinite matrix.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

Matches = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _optimal_pairs(r: np.ndarray, c: np.ndarray, values: np.ndarray,
                   max_distance: float) -> tuple[np.ndarray, np.ndarray]:
    """Optimal assignment (rows, cols) among admissible pairs (r, c) costing values.

    Equivalent to the reference (above-gate entries set to max_distance + 1e-5, then solved on
    the whole matrix): that objective only rewards admissible pairs, so rows and columns
    without any can be left out, and an assignment without conflicts needs no solver.
    Pairs come in row-major order (as np.nonzero lists them), and so do the results.
    """
    row_pairs, col_pairs = np.bincount(r), np.bincount(c)
    if row_pairs.max(initial=0) <= 1 and col_pairs.max(initial=0) <= 1:
        return r, c  # every admissible row and column has exactly one pair
    busy_rows, busy_cols = np.flatnonzero(row_pairs), np.flatnonzero(col_pairs)
    sub = np.full((len(busy_rows), len(busy_cols)), max_distance + 1e-5)
    sub[np.searchsorted(busy_rows, r), np.searchsorted(busy_cols, c)] = values
    r, c = linear_sum_assignment(sub)
    good = sub[r, c] <= max_distance
    return busy_rows[r[good]], busy_cols[c[good]]


def _all_but(indices: np.ndarray, taken: np.ndarray) -> np.ndarray:
    """indices without the positions `taken`."""
    keep = np.ones(len(indices), dtype=bool)
    keep[taken] = False
    return indices[keep]


def sparse_matching_cascade(r: np.ndarray, c: np.ndarray, values: np.ndarray,
                            max_distance: float, levels: np.ndarray,
                            shape: tuple[int, int]) -> Matches:
    """matching_cascade of the `shape` matrix holding values at (r, c) and inf elsewhere.

    The pairs must be in row-major order without repeats (as np.nonzero lists them).
    """
    admissible = values <= max_distance
    r, c, values = r[admissible], c[admissible], values[admissible]
    pair_levels = levels[r]
    taken = np.zeros(shape[1], dtype=bool)
    matched_rows, matched_cols = [r[:0]], [c[:0]]
    # Rows without any admissible pair cannot match at any level: their levels are skipped.
    for level in sorted(set(pair_levels.tolist())):
        pick = pair_levels == level
        if len(matched_rows) > 1:
            pick &= ~taken[c]  # columns matched at a lower level are gone
        rows, cols = _optimal_pairs(r[pick], c[pick], values[pick], max_distance)
        matched_rows.append(rows)
        matched_cols.append(cols)
        taken[cols] = True
        if taken.all():
            break
    matched_rows, matched_cols = np.concatenate(matched_rows), np.concatenate(matched_cols)
    unmatched = np.ones(shape[0], dtype=bool)
    unmatched[matched_rows] = False
    return matched_rows, matched_cols, np.flatnonzero(unmatched), np.flatnonzero(~taken)


def matching_cascade(cost: np.ndarray, max_distance: float, levels: np.ndarray,
                     rows: np.ndarray | None = None, cols: np.ndarray | None = None) -> Matches:
    """Match rows in order of increasing level (frames since update), each against what is left.

    Tracks seen more recently get first pick of the detections (paper, Listing 1).
    Returns (matched rows, matched cols, unmatched rows, unmatched cols) as indices into `cost`;
    matched rows[i] goes with matched cols[i]. Infinite entries are never matched.
    """
    rows = np.arange(cost.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
    cols = np.arange(cost.shape[1]) if cols is None else np.asarray(cols, dtype=np.int64)
    sub = cost[np.ix_(rows, cols)]
    r, c = np.nonzero(sub <= max_distance)
    r, c, _, _ = sparse_matching_cascade(r, c, sub[r, c], max_distance, levels[rows], sub.shape)
    return rows[r], cols[c], _all_but(rows, r), _all_but(cols, c)


def min_cost_matching(cost: np.ndarray, max_distance: float,
                      rows: np.ndarray | None = None, cols: np.ndarray | None = None) -> Matches:
    """Optimal assignment on cost[rows][:, cols], rejecting pairs costing more than max_distance.

    Same return convention as matching_cascade (it is a cascade of one level).
    """
    return matching_cascade(cost, max_distance, np.zeros(cost.shape[0], dtype=np.int64),
                            rows, cols)
