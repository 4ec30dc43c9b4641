"""Intersection over union of boxes (vectorised)."""

from __future__ import annotations

import numpy as np


def iou(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """(A, B) IoU between xyxy boxes."""
    # One (A, B) array per coordinate: cheaper than (A, B, 2) stacks and their reductions.
    a, b = boxes_a.T[:, :, None], boxes_b.T[:, None, :]
    return _overlap(a, b)


def paired_iou(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """(P,) IoU of boxes_a[i] with boxes_b[i] (both (P, 4) xyxy)."""
    return _overlap(boxes_a.T, boxes_b.T)


def _overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of coordinate stacks a, b (x1, y1, x2, y2 first), broadcast against each other."""
    width = np.clip(np.minimum(a[2], b[2]) - np.maximum(a[0], b[0]), 0.0, None)
    height = np.clip(np.minimum(a[3], b[3]) - np.maximum(a[1], b[1]), 0.0, None)
    inter = width * height
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    return inter / np.maximum(area_a + area_b - inter, 1e-12)
