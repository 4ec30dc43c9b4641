"""Appearance galleries and the nearest-neighbour cosine distance of the paper.

Row i of the gallery belongs to track row i of the TrackSet (which keeps them aligned). All
galleries live in one array (rows, budget, dim), each a ring buffer of that track's most recent
`budget` L2-normalised embeddings. The appearance cost of a (track, detection) pair is the
smallest cosine distance between the detection and any gallery sample, computed only for the
pairs the caller marks as candidates (those inside the motion gate), in one batched product
over the galleries concerned: reading the galleries dominates the tracker's run time.
"""

from __future__ import annotations

import numpy as np


def normalize(features: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.maximum(norms, 1e-12)


class FeatureGallery:
    """Bounded per-track galleries of recent appearance features (or their EMA), one per track."""

    def __init__(self, budget: int, ema: float = 0.0):
        # With ema > 0 each row holds one running average (StrongSORT) instead of a ring buffer.
        self.budget = 1 if ema > 0.0 else budget
        self.ema = ema
        self.clear()

    def clear(self) -> None:
        """Forget every gallery; the feature dimension is learnt again."""
        self._features: np.ndarray | None = None  # (capacity, budget, dim) float32
        self._count = np.zeros(0, dtype=np.int64)  # samples ever added, per row
        self.rows = 0

    @property
    def dim(self) -> int | None:
        """Feature dimension, None until the first features arrive."""
        return None if self._features is None else self._features.shape[2]

    @property
    def capacity(self) -> int:
        """Number of gallery rows allocated (grows by doubling, never shrinks)."""
        return len(self._count)

    def sizes(self, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Number of stored samples per row (at most budget)."""
        return np.minimum(self._count[:self.rows][rows], self.budget)

    def add_rows(self, n: int) -> None:
        """Append n empty galleries (for new tracks)."""
        needed = self.rows + n
        if needed > len(self._count):
            self._grow(max(needed, 2 * len(self._count), 16))
        self._count[self.rows:needed] = 0
        self.rows = needed

    def copy(self) -> 'FeatureGallery':
        """An independent copy of the live rows (the spare capacity is not copied)."""
        other = FeatureGallery.__new__(FeatureGallery)
        other.budget, other.ema, other.rows = self.budget, self.ema, self.rows
        other._count = self._count[:max(self.rows, 1)].copy()
        other._features = None if self._features is None else self._features[:len(other._count)].copy()
        return other

    def keep(self, mask: np.ndarray) -> None:
        """Keep the galleries where mask (one entry per row) is True, compacting them."""
        kept = np.flatnonzero(mask)
        self._count[:len(kept)] = self._count[kept]
        if self._features is not None:
            self._features[:len(kept)] = self._features[kept]
        self.rows = len(kept)

    def append(self, rows: np.ndarray, features: np.ndarray) -> None:
        """Add one normalised feature per row (rows unique), overwriting the oldest sample."""
        if len(rows) == 0:
            return
        if self._features is None:
            self._features = np.zeros((len(self._count), self.budget, features.shape[1]),
                                      dtype=np.float32)
        self._check_dim(features)
        count = self._count[rows]
        if self.ema > 0.0:  # budget 1: the running average is sample 0
            blended = normalize(self.ema * self._features[rows, 0] + (1.0 - self.ema) * features)
            self._features[rows, 0] = np.where(count[:, None] > 0, blended, features)
        else:
            self._features[rows, count % self.budget] = features
        self._count[rows] = count + 1

    def newest(self, rows: np.ndarray) -> np.ndarray:
        """(len(rows), D) each row's newest sample (its running average with ema > 0)."""
        return self._features[rows, (self._count[rows] - 1) % self.budget]

    def newest_cosine_distance(self, rows: np.ndarray, queries: np.ndarray) -> np.ndarray:
        """(P,) cosine distance of queries[i] to row rows[i]'s newest sample (an upper bound).

        inf for empty galleries.
        """
        if len(rows) == 0 or self._features is None:
            return np.full(len(rows), np.inf)
        self._check_dim(queries)
        distance = 1.0 - np.einsum('pd,pd->p', self.newest(rows), queries)
        return np.where(self._count[rows] > 0, distance, np.inf)

    def min_cosine_distance(self, rows: np.ndarray, queries: np.ndarray,
                            candidates: np.ndarray) -> np.ndarray:
        """(len(rows), N) smallest cosine distance of each query to each row's gallery.

        `queries` are (N, D) normalised features, `candidates` a (len(rows), N) bool mask;
        entries outside it are inf.
        """
        cost = np.full(candidates.shape, np.inf)
        busy = np.flatnonzero(candidates.any(axis=1))
        if len(busy) == 0 or self._features is None:
            return cost
        self._check_dim(queries)
        wanted = candidates[busy]
        width = int(wanted.sum(axis=1).max())
        # Each row's candidate columns first (padded with non-candidates, discarded below), so
        # one batched product covers every gated pair of a row.
        cols = (wanted.argmax(axis=1)[:, None] if width == 1
                else np.argsort(~wanted, axis=1, kind='stable')[:, :width])
        gallery_rows = rows[busy]
        # (busy, budget, D) @ (busy, D, width) -> (busy, budget, width)
        similarity = self._features[gallery_rows] @ queries[cols].transpose(0, 2, 1)
        stored = np.arange(self.budget) < self.sizes(gallery_rows)[:, None]
        similarity = np.where(stored[:, :, None], similarity, -np.inf)
        distance = 1.0 - similarity.max(axis=1)
        picked = np.take_along_axis(wanted, cols, axis=1)
        cost[busy[:, None], cols] = np.where(picked, distance, np.inf)
        return cost

    def _check_dim(self, features: np.ndarray) -> None:
        """Raise ValueError when the embedding size differs from the stored one."""
        if features.shape[1] != self.dim:
            raise ValueError(f'embedding dimension changed from {self.dim} to '
                             f'{features.shape[1]}; reset the tracker when switching embedders')

    def _grow(self, capacity: int) -> None:
        """Enlarge the arrays to `capacity` rows."""
        extra = capacity - len(self._count)
        self._count = np.concatenate([self._count, np.zeros(extra, dtype=np.int64)])
        if self._features is not None:
            pad = np.zeros((extra,) + self._features.shape[1:], dtype=np.float32)
            self._features = np.concatenate([self._features, pad])
