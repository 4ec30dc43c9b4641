"""A frame's detections as one batch of arrays, and the box-format conversions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def xyxy_to_xyah(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) x1, y1, x2, y2 -> centre u, v, aspect ratio w / h, height h."""
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    return np.stack([boxes[:, 0] + w / 2, boxes[:, 1] + h / 2, w / h, h], axis=1)


def xyah_to_xyxy(xyah: np.ndarray) -> np.ndarray:
    """(N, 4) centre u, v, aspect ratio, height -> x1, y1, x2, y2."""
    half = np.empty((len(xyah), 2))  # half width, half height
    np.multiply(xyah[:, 2], xyah[:, 3], out=half[:, 0])
    half[:, 1] = xyah[:, 3]
    half /= 2
    return np.concatenate((xyah[:, :2] - half, xyah[:, :2] + half), axis=1)


def xyxy_to_xywh(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) x1, y1, x2, y2 -> centre u, v, width w, height h."""
    size = boxes[:, 2:] - boxes[:, :2]
    return np.concatenate((boxes[:, :2] + size / 2, size), axis=1)


def xywh_to_xyxy(xywh: np.ndarray) -> np.ndarray:
    """(N, 4) centre u, v, width, height -> x1, y1, x2, y2."""
    half = xywh[:, 2:4] / 2
    return np.concatenate((xywh[:, :2] - half, xywh[:, :2] + half), axis=1)


@dataclass
class DetectionBatch:
    """Validated detections of one frame; `indices` point back into the caller's arrays."""

    boxes: np.ndarray  # (N, 4) float64 xyxy
    scores: np.ndarray  # (N,) float64
    class_ids: np.ndarray  # (N,) int64
    indices: np.ndarray  # (N,) int64
    features: np.ndarray | None = None  # (N, D) float32, L2-normalised
    masks: list | None = None  # N bool windows (h, w), or None
    mask_origins: np.ndarray | None = None  # (N, 2) int x0, y0
    measurements: np.ndarray | None = None  # (N, 4) in the Kalman box state; set by Tracker

    def __len__(self) -> int:
        """Number of detections."""
        return len(self.boxes)

    def subset(self, rows: np.ndarray) -> 'DetectionBatch':
        """The detections at `rows` (integer indices or boolean mask)."""
        rows = np.asarray(rows)
        if rows.dtype == bool:
            if rows.all():
                return self
            rows = np.flatnonzero(rows)
        return DetectionBatch(
            boxes=self.boxes[rows], scores=self.scores[rows], class_ids=self.class_ids[rows],
            indices=self.indices[rows],
            measurements=None if self.measurements is None else self.measurements[rows],
            features=None if self.features is None else self.features[rows],
            masks=None if self.masks is None else [self.masks[i] for i in rows],
            mask_origins=None if self.mask_origins is None else self.mask_origins[rows])
