"""How much appearance may decide a pair: its margin over the alternatives (Deep OC-SORT-like).

Appearance should only break a geometric tie when it singles out one candidate. For a
candidate pair (track i, detection j) the margin is how much closer j is to i in appearance
than the best other candidate of track i, and than the best other candidate of detection j:

    margin_ij = min(min_{k != j} cos_ik, min_{l != i} cos_lj) - cos_ij

(+inf when there is no other candidate). The weight grows linearly with it,
w_ij = clip(margin_ij / scale, 0, 1), so near-identical embeddings (uniform frames, look-alike
people or cars, a weak embedder) give weight ~0 and association falls back to geometry, while
a pair that beats every alternative by `scale` gets the full appearance term. The association
cost is then (1 - w) * (1 - IoU) + w * min(1 - IoU, cos): BoT-SORT's cost where appearance is
decisive, the IoU distance where it is not.
"""

from __future__ import annotations

import numpy as np


def _best_other(keys: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Per pair, the smallest value among the other pairs with the same key (+inf if none)."""
    order = np.lexsort((values, keys))
    k, v = keys[order], values[order]
    first = np.full(size, np.inf)
    second = np.full(size, np.inf)
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    first[k[starts]] = v[starts]
    has_second = np.r_[starts[1:], len(k)] - starts > 1
    second[k[starts[has_second]]] = v[starts[has_second] + 1]
    out = np.empty(len(values))
    # The pair that is its group's minimum compares with the runner-up, every other with the minimum.
    is_first = np.zeros(len(k), dtype=bool)
    is_first[starts] = True
    out[order] = np.where(is_first, second[k], first[k])
    return out


def appearance_margin(r: np.ndarray, c: np.ndarray, cosine: np.ndarray,
                      shape: tuple[int, int]) -> np.ndarray:
    """margin_ij of each candidate pair (r[i], c[i]) with cosine distance cosine[i]."""
    if len(r) == 0:
        return np.zeros(0)
    other = np.minimum(_best_other(r, cosine, shape[0]), _best_other(c, cosine, shape[1]))
    return other - cosine


def appearance_weight(r: np.ndarray, c: np.ndarray, cosine: np.ndarray, shape: tuple[int, int],
                      scale: float) -> np.ndarray:
    """w_ij = clip(margin_ij / scale, 0, 1); scale 0 gives every pair the full weight."""
    if scale <= 0.0:
        return np.ones(len(r))
    return np.clip(appearance_margin(r, c, cosine, shape) / scale, 0.0, 1.0)


def weighted_cost(iou_distance: np.ndarray, cosine: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """(1 - w) * iou_distance + w * min(iou_distance, cosine), per pair."""
    return iou_distance - weight * np.maximum(iou_distance - cosine, 0.0)
