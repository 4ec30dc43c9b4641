"""All live tracks as parallel arrays (one row per track) and their life-cycle rules.

The reference code keeps one Track object per target; here the same per-track fields live in
stacked numpy arrays so prediction, gating and updates run once per frame for all tracks.
The appearance gallery rows are kept aligned with the track rows.
"""

from __future__ import annotations

import enum

import numpy as np

from .nn_matching import FeatureGallery


class TrackState(enum.IntEnum):
    """State of a reported track; the values are perception_msgs/TrackedObject's STATE_*."""

    TENTATIVE = 0  # seen fewer than n_init times; id not yet trusted
    CONFIRMED = 1  # established and matched to a detection this frame
    LOST = 2  # confirmed, not matched this frame; the box is the prediction


# TrackSet.states holds TENTATIVE or CONFIRMED (LOST is CONFIRMED with a missed frame), as
# plain ints: numpy compares those faster than enum members.
TENTATIVE = int(TrackState.TENTATIVE)
CONFIRMED = int(TrackState.CONFIRMED)


class TrackSet:
    """Per-track state in parallel arrays; row order is arbitrary but consistent across fields."""

    #: Names of the per-row numpy arrays (kept aligned by add/keep).
    ARRAYS = ('ids', 'means', 'covs', 'class_ids', 'scores', 'hits', 'age',
              'frames_since_update', 'last_update_time', 'states', 'detection_index')

    def __init__(self, budget: int, feature_ema: float = 0.0):
        self.ids = np.zeros(0, dtype=np.int64)
        self.means = np.zeros((0, 8))
        self.covs = np.zeros((0, 8, 8))
        self.class_ids = np.zeros(0, dtype=np.int64)
        self.scores = np.zeros(0)
        self.hits = np.zeros(0, dtype=np.int64)  # matched frames
        self.age = np.zeros(0, dtype=np.int64)  # frames since creation (1 on creation)
        self.frames_since_update = np.zeros(0, dtype=np.int64)
        self.last_update_time = np.zeros(0)  # seconds
        self.states = np.zeros(0, dtype=np.int8)
        self.detection_index = np.zeros(0, dtype=np.int64)  # -1 when not matched this frame
        self.gallery = FeatureGallery(budget, feature_ema)  # row i = appearance gallery of track i

    def __len__(self) -> int:
        """Number of live tracks."""
        return len(self.ids)

    def add(self, ids, means, covs, class_ids, scores, time, detection_index,
            confirmed: bool, features=None) -> None:
        """Append new tracks created from detections this frame (with their first features)."""
        n = len(ids)
        fresh = {
            'ids': ids, 'means': means, 'covs': covs, 'class_ids': class_ids, 'scores': scores,
            'hits': np.ones(n, dtype=np.int64), 'age': np.ones(n, dtype=np.int64),
            'frames_since_update': np.zeros(n, dtype=np.int64),
            'last_update_time': np.full(n, float(time)),
            'states': np.full(n, CONFIRMED if confirmed else TENTATIVE, dtype=np.int8),
            'detection_index': detection_index,
        }
        for name in self.ARRAYS:
            current = getattr(self, name)
            setattr(self, name, np.concatenate([current, np.asarray(fresh[name], current.dtype)]))
        self.gallery.add_rows(n)
        if features is not None:
            self.gallery.append(np.arange(len(self) - n, len(self)), features)

    def copy(self) -> 'TrackSet':
        """An independent copy."""
        other = TrackSet.__new__(TrackSet)
        for name in self.ARRAYS:
            setattr(other, name, getattr(self, name).copy())
        other.gallery = self.gallery.copy()
        return other

    def keep(self, rows: np.ndarray) -> None:
        """Keep only the tracks where the boolean mask `rows` is True."""
        for name in self.ARRAYS:
            setattr(self, name, getattr(self, name)[rows])
        self.gallery.keep(rows)

    def reported(self, max_age: int) -> 'TrackView':
        """The per-track arrays of the tracks missed for at most max_age frames."""
        rows = self.frames_since_update <= max_age
        return TrackView(**{name: getattr(self, name)[rows] for name in self.ARRAYS})

    def mark_predicted(self) -> None:
        """One more frame has passed for every track (reference Track.predict bookkeeping)."""
        self.age += 1
        self.frames_since_update += 1
        self.detection_index[:] = -1

    def mark_hit(self, rows: np.ndarray, scores, class_ids, time: float, detection_index,
                 n_init: int) -> None:
        """Record matches; tentative tracks with n_init hits become confirmed."""
        self.hits[rows] += 1
        self.frames_since_update[rows] = 0
        self.last_update_time[rows] = time
        self.scores[rows] = scores
        self.class_ids[rows] = class_ids
        self.detection_index[rows] = detection_index
        promote = rows[(self.states[rows] == TENTATIVE) & (self.hits[rows] >= n_init)]
        self.states[promote] = CONFIRMED

    def expired(self, max_age: int, max_age_s: float, now: float) -> np.ndarray:
        """Boolean mask of tracks to delete: missed tentative, or confirmed missed too long."""
        missed = self.frames_since_update > 0
        too_old = self.frames_since_update > max_age
        if max_age_s > 0.0:
            too_old |= missed & (now - self.last_update_time > max_age_s)
        return (missed & (self.states == TENTATIVE)) | too_old


class TrackView:
    """A read-only selection of a TrackSet's per-track arrays (same attribute names)."""

    def __init__(self, **arrays: np.ndarray):
        self.__dict__.update(arrays)
