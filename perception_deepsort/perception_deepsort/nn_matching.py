"""Appearance galleries and the nearest-neighbour cosine distance of the paper.

Each track owns a slot in one preallocated array (slots, budget, dim) used as a ring buffer of
its most recent `budget` L2-normalised embeddings. The appearance cost of a (track, detection)
pair is the smallest cosine distance between the detection and any gallery sample. Distances
are only computed for the pairs the caller marks as candidates (those inside the motion gate),
batched over all tracks in one matrix product, because reading every gallery for every
detection dominates the tracker's run time otherwise.
"""

from __future__ import annotations

import numpy as np


def normalize(features: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.maximum(norms, 1e-12)


class FeatureGallery:
    """Bounded per-track galleries of recent appearance features, stored in one array."""

    def __init__(self, budget: int, initial_slots: int = 64):
        self.budget = budget
        self._initial_slots = initial_slots
        self.clear()

    def clear(self) -> None:
        """Forget every gallery and slot; the feature dimension is learnt again."""
        self._features: np.ndarray | None = None  # (slots, budget, dim) float32
        self._count = np.zeros(self._initial_slots, dtype=np.int64)  # samples stored per slot
        self._used = np.zeros(self._initial_slots, dtype=bool)

    @property
    def dim(self) -> int | None:
        """Feature dimension, None until the first features arrive."""
        return None if self._features is None else self._features.shape[2]

    @property
    def slots_in_use(self) -> int:
        """Number of allocated galleries."""
        return int(self._used.sum())

    def sizes(self, slots: np.ndarray) -> np.ndarray:
        """Number of stored samples of each slot (at most budget)."""
        return np.minimum(self._count[slots], self.budget)

    def allocate(self, n: int) -> np.ndarray:
        """Reserve n empty galleries and return their slots (lowest free slots first)."""
        free = np.flatnonzero(~self._used)
        if len(free) < n:
            self._grow(len(self._used) + n - len(free))
            free = np.flatnonzero(~self._used)
        slots = free[:n]
        self._used[slots] = True
        self._count[slots] = 0
        return slots

    def release(self, slots: np.ndarray) -> None:
        """Free galleries of deleted tracks."""
        self._used[slots] = False
        self._count[slots] = 0

    def append(self, slots: np.ndarray, features: np.ndarray) -> None:
        """Add one normalised feature row per slot (slots unique), overwriting the oldest sample."""
        if len(slots) == 0:
            return
        if self._features is None:
            self._features = np.zeros((len(self._used), self.budget, features.shape[1]),
                                      dtype=np.float32)
        elif features.shape[1] != self.dim:
            raise ValueError(f'embedding dimension changed from {self.dim} to '
                             f'{features.shape[1]}; reset the tracker when switching embedders')
        self._features[slots, self._count[slots] % self.budget] = features
        self._count[slots] += 1

    def min_cosine_distance(self, slots: np.ndarray, queries: np.ndarray,
                            candidates: np.ndarray) -> np.ndarray:
        """(T, N) smallest cosine distance of each query to each slot's gallery; inf off-candidate.

        `queries` are (N, D) normalised features, `candidates` a (T, N) bool mask.
        """
        cost = np.full(candidates.shape, np.inf)
        rows = np.flatnonzero(candidates.any(axis=1))
        if len(rows) == 0 or self._features is None:
            return cost
        if queries.shape[1] != self.dim:
            raise ValueError(f'embedding dimension changed from {self.dim} to '
                             f'{queries.shape[1]}; reset the tracker when switching embedders')
        wanted = candidates[rows]
        width = int(wanted.sum(axis=1).max())
        # Per row, the first `width` columns are its candidates (padding with non-candidates,
        # discarded below), so one batched product covers every gated pair.
        cols = np.argsort(~wanted, axis=1, kind='stable')[:, :width]
        gallery = self._features[slots[rows]]  # (R, budget, D)
        similarity = gallery @ queries[cols].transpose(0, 2, 1)  # (R, budget, width)
        stored = np.arange(self.budget)[None, :] < self.sizes(slots[rows])[:, None]
        similarity[~stored] = -np.inf
        distance = 1.0 - similarity.max(axis=1)
        picked = np.take_along_axis(wanted, cols, axis=1)
        cost[rows[:, None], cols] = np.where(picked, distance, np.inf)
        return cost

    def _grow(self, minimum: int) -> None:
        """Enlarge the slot arrays to hold at least `minimum` slots (doubling)."""
        size = max(minimum, 2 * len(self._used))
        extra = size - len(self._used)
        self._count = np.concatenate([self._count, np.zeros(extra, dtype=np.int64)])
        self._used = np.concatenate([self._used, np.zeros(extra, dtype=bool)])
        if self._features is not None:
            pad = np.zeros((extra,) + self._features.shape[1:], dtype=np.float32)
            self._features = np.concatenate([self._features, pad])
