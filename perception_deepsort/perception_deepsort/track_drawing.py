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

    def draw(self, image: np.ndarray, tracks, dets) -> np.ndarray:
        """Annotated copy of `image` with the confirmed `tracks` (masks from their detections)."""
        shown = confirmed_tracks(tracks)
        masks, origins = [], []
        for t in shown:
            has_mask = dets.masks is not None and t.detection_index >= 0
            masks.append(dets.masks[t.detection_index] if has_mask else None)
            origins.append(dets.mask_origins[t.detection_index] if has_mask else (0, 0))
        trails = [self._trails.get(t.track_id) if self.trail_length > 0 else None for t in shown]
        return draw_instances(image, [t.box for t in shown],
                              [f'{dets.class_names[t.class_id]} #{t.track_id}' for t in shown],
                              [color_for(t.track_id) for t in shown], masks, origins, trails)
