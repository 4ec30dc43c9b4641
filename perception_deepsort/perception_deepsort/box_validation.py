"""Checking a frame's detection arrays before they reach the tracker.

Malformed calls (wrong shapes, mismatched lengths) are programming errors and raise
ValueError. Bad values inside well-formed arrays (NaN, empty boxes, boxes off the image) come
from detectors and are rejected row by row so the tracker never sees them.
"""

from __future__ import annotations

import numpy as np


def as_arrays(boxes_xyxy, scores, class_ids, embeddings=None, masks=None, mask_origins=None):
    """Convert and shape-check the inputs of DeepSort.update; raises ValueError when malformed.

    Returns (boxes (N,4) float64, scores (N,) float64, class_ids (N,) int64,
    embeddings (N,D) float32 | None, masks list | None, mask_origins (N,2) int64 | None).
    None scores mean 1.0, None class_ids mean class 0.
    """
    boxes = np.asarray(boxes_xyxy if boxes_xyxy is not None else [], dtype=np.float64)
    if boxes.size == 0:
        boxes = boxes.reshape(0, 4)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f'boxes_xyxy must have shape (N, 4), got {boxes.shape}')
    n = len(boxes)
    scores = np.ones(n) if scores is None else np.asarray(scores, dtype=np.float64).reshape(-1)
    class_ids = (np.zeros(n, dtype=np.int64) if class_ids is None
                 else np.asarray(class_ids).reshape(-1))
    _check_length('scores', len(scores), n)
    _check_length('class_ids', len(class_ids), n)
    if n and not np.issubdtype(class_ids.dtype, np.integer):
        if not np.all(np.isfinite(class_ids)) or np.any(class_ids != np.round(class_ids)):
            raise ValueError('class_ids must be integers')
    class_ids = class_ids.astype(np.int64)
    if embeddings is not None:
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if embeddings.ndim != 2 or len(embeddings) != n:
            raise ValueError(f'embeddings must have shape (N, D) with N = {n} boxes, '
                             f'got {embeddings.shape}')
    if (masks is None) != (mask_origins is None):
        raise ValueError('masks and mask_origins must be given together')
    if masks is not None:
        masks = [np.asarray(m, dtype=bool) for m in masks]
        mask_origins = np.asarray(mask_origins, dtype=np.int64).reshape(-1, 2)
        _check_length('masks', len(masks), n)
        _check_length('mask_origins', len(mask_origins), n)
        if any(m.ndim != 2 for m in masks):
            raise ValueError('each mask must be a 2-D bool window (h, w)')
    return boxes, scores, class_ids, embeddings, masks, mask_origins


def rejections(boxes: np.ndarray, scores: np.ndarray, embeddings: np.ndarray | None,
               image_size: tuple[int, int] | None) -> dict[str, np.ndarray]:
    """Boolean masks of rows to reject, by reason: 'nonfinite', 'size', 'outside'.

    A row is counted under its first failing reason only (NaN compares False everywhere).
    """
    finite = np.isfinite(boxes).all(axis=1) & np.isfinite(scores)
    if embeddings is not None:
        finite &= np.isfinite(embeddings).all(axis=1)
    positive = (boxes[:, 2:] > boxes[:, :2]).all(axis=1)
    inside = positive
    if image_size is not None:
        inside = positive & (boxes[:, 2:] > 0).all(axis=1) & (boxes[:, :2] < image_size).all(axis=1)
    return {'nonfinite': ~finite, 'size': finite & ~positive,
            'outside': finite & positive & ~inside}


def _check_length(name: str, length: int, expected: int) -> None:
    """Raise ValueError when an input's length differs from the number of boxes."""
    if length != expected:
        raise ValueError(f'{name} has {length} entries but there are {expected} boxes')
