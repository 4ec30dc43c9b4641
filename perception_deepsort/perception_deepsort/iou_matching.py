"""Intersection over union of boxes (vectorised) and of cropped instance masks."""

from __future__ import annotations

import cv2
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


def fit_mask_to_box(mask: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Resize a mask window to cover xyxy `box`; returns (window, origin x0, y0)."""
    x0, y0 = int(np.floor(box[0])), int(np.floor(box[1]))
    w = max(int(np.ceil(box[2])) - x0, 1)
    h = max(int(np.ceil(box[3])) - y0, 1)
    window = cv2.resize(mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    return window.astype(bool), np.array([x0, y0])


def window_iou(mask_a: np.ndarray, origin_a, mask_b: np.ndarray, origin_b) -> float:
    """IoU of two bool windows placed at their (x0, y0) origins in the same image."""
    ax, ay = int(origin_a[0]), int(origin_a[1])
    bx, by = int(origin_b[0]), int(origin_b[1])
    x0, y0 = max(ax, bx), max(ay, by)
    x1 = min(ax + mask_a.shape[1], bx + mask_b.shape[1])
    y1 = min(ay + mask_a.shape[0], by + mask_b.shape[0])
    inter = 0
    if x1 > x0 and y1 > y0:
        inter = int(np.count_nonzero(mask_a[y0 - ay:y1 - ay, x0 - ax:x1 - ax]
                                     & mask_b[y0 - by:y1 - by, x0 - bx:x1 - bx]))
    union = int(np.count_nonzero(mask_a)) + int(np.count_nonzero(mask_b)) - inter
    return inter / union if union > 0 else 0.0


def mask_iou(masks_a: list, origins_a: np.ndarray, masks_b: list, origins_b: np.ndarray,
             candidates: np.ndarray) -> np.ndarray:
    """(A, B) mask IoU, computed only where `candidates` is True (0 elsewhere)."""
    result = np.zeros(candidates.shape)
    for i, j in zip(*np.nonzero(candidates)):
        result[i, j] = window_iou(masks_a[i], origins_a[i], masks_b[j], origins_b[j])
    return result
