"""Tracks drawn on their frame: tinted masks, boxes, 'class #id' and short motion trails.

One drawer for the tracker node's `tracks/image` and the offline tools, so both look the same.
"""
from __future__ import annotations

import collections

import numpy as np

from perception_deepsort.deep_sort import confirmed_tracks
from perception_ros_glue.visualization import color_for, draw_instances


class TrackDrawer:
    """Keeps recent box centres of live tracks and draws confirmed tracks with their trails."""

    def __init__(self, trail_length: int = 20):
        self.trail_length = trail_length
        self._trails: dict[int, collections.deque] = {}

    def update(self, tracks) -> None:
        """Append this frame's box centres; forget tracks that are gone."""
        live = {}
        for t in tracks:
            trail = self._trails.get(t.track_id)
            if trail is None:
                trail = collections.deque(maxlen=max(self.trail_length, 1))
            trail.append(((t.box[0] + t.box[2]) / 2, (t.box[1] + t.box[3]) / 2))
            live[t.track_id] = trail
        self._trails = live

    def reset(self) -> None:
        """Forget all trails (time went backwards)."""
        self._trails.clear()

    def draw(self, image: np.ndarray, tracks, class_names) -> np.ndarray:
        """Annotated copy of `image` with the confirmed `tracks` (and their masks in this frame)."""
        shown = confirmed_tracks(tracks)
        masks = [None if t.mask is None else t.mask[0] for t in shown]
        origins = [(0, 0) if t.mask is None else t.mask[1] for t in shown]
        trails = [self._trails.get(t.track_id) if self.trail_length > 0 else None for t in shown]
        return draw_instances(image, [t.box for t in shown],
                              [f'{class_names[t.class_id]} #{t.track_id}' for t in shown],
                              [color_for(t.track_id) for t in shown], masks, origins, trails)
