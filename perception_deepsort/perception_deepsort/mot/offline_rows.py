"""The rows an offline run writes, with what only hindsight can add.

Online, a track is reported from its confirmation on and only in frames where a detection
matched it. Offline, the whole sequence is known, so two kinds of boxes can be added after the
fact: the frames before a track was confirmed (its tentative matches: n_init - 1 boxes per
track that the online rule withholds), and short gaps of a track that was found again
(linearly interpolated, as StrongSORT's and ByteTrack's offline results do). Neither changes
an id. Feed every frame's DeepSort.update() outputs to ``add`` in order, then take ``rows()``.
"""

from __future__ import annotations

import numpy as np

from perception_deepsort.track import TrackState


class OfflineRows:
    """Collects (frame, id, box, score) rows of confirmed tracks, with first frames and gaps filled in."""

    def __init__(self, first_frames: bool = True, max_gap: int = 0):
        self.first_frames = first_frames  # publish a confirmed track's tentative matches too
        self.max_gap = max_gap  # interpolate gaps of up to this many frames (0 = none)
        self._rows: dict[int, list] = {}  # id -> [(frame, box, score)]
        self._pending: dict[int, list] = {}  # tentative id -> its matched (frame, box, score)
        self._age: dict[int, int] = {}  # id -> age at its last report (a drop means: relinked)
        self._tentative_age: dict[int, tuple[int, int]] = {}  # tentative id -> (age, frame)
        self._frame = None

    def add(self, frame: int, outputs) -> None:
        """One frame's DeepSort.update() outputs (every live track, any state)."""
        previous, self._frame = self._frame, frame
        live = {o.track_id for o in outputs}
        for o in outputs:
            if o.state is TrackState.TENTATIVE:
                if o.detection_index >= 0:
                    self._pending.setdefault(o.track_id, []).append((frame, o.box, o.score))
                self._tentative_age[o.track_id] = (o.age, frame)
                continue
            if o.track_id not in self._age:
                self._take_pending(o.track_id, o.track_id)
            elif o.age < self._age[o.track_id]:
                # Relinked: a young track took over this lost id; its tentative rows carry the old id.
                young = [k for k, (age, seen) in self._tentative_age.items()
                         if k not in live and seen == previous and age + 1 == o.age]
                if young:
                    self._take_pending(young[0], o.track_id)
            self._age[o.track_id] = o.age
            if o.state is TrackState.CONFIRMED:
                self._rows.setdefault(o.track_id, []).append((frame, o.box, o.score))
        for gone in [k for k in self._tentative_age if k not in live]:
            del self._tentative_age[gone]
            self._pending.pop(gone, None)

    def _take_pending(self, tentative_id: int, track_id: int) -> None:
        """Move a confirmed track's tentative matches to its rows (when first_frames)."""
        pending = self._pending.pop(tentative_id, [])
        if self.first_frames:
            self._rows.setdefault(track_id, []).extend(pending)

    def rows(self):
        """(frames, ids, boxes (N, 4) xyxy, scores), by frame then id."""
        frames, ids, boxes, scores = [], [], [], []
        for track_id, rows in self._rows.items():
            rows = sorted(rows, key=lambda r: r[0])
            filled = []
            for i, (f, b, s) in enumerate(rows):
                filled.append((f, b, s))
                if i + 1 < len(rows) and 1 < rows[i + 1][0] - f <= self.max_gap + 1:
                    f1, b1 = rows[i + 1][0], rows[i + 1][1]
                    for g in range(f + 1, f1):
                        w = (g - f) / (f1 - f)
                        filled.append((g, (1 - w) * np.asarray(b) + w * np.asarray(b1), s))
            for f, b, s in filled:
                frames.append(f)
                ids.append(track_id)
                boxes.append(np.asarray(b, float))
                scores.append(float(s))
        order = np.lexsort((ids, frames)) if frames else np.zeros(0, int)
        return (np.asarray(frames, int)[order], np.asarray(ids, int)[order],
                np.asarray(boxes, float).reshape(-1, 4)[order], np.asarray(scores, float)[order])
