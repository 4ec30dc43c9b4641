"""Detector output shared by every backend, node and tool: boxes, classes, scores, box-cropped masks."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import cv2
import numpy as np


def mask_window(box, image_shape) -> tuple[int, int, int, int]:
    """Integer pixel window ``(x0, y0, x_end, y_end)`` covering ``box`` (xyxy), clipped to the image."""
    height, width = image_shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    x0 = min(max(math.floor(x1), 0), width)
    y0 = min(max(math.floor(y1), 0), height)
    # max() keeps the window non-negative for degenerate boxes (x2 < x1 after clipping).
    x_end = max(min(max(math.ceil(x2), 0), width), x0)
    y_end = max(min(max(math.ceil(y2), 0), height), y0)
    return x0, y0, x_end, y_end


def crop_mask(full_mask: np.ndarray, box) -> tuple[np.ndarray, np.ndarray]:
    """Cut a full-image mask down to the window of ``box``: returns ``(bool window, origin (x0, y0))``."""
    x0, y0, x_end, y_end = mask_window(box, full_mask.shape)
    window = np.ascontiguousarray(full_mask[y0:y_end, x0:x_end], dtype=bool)
    return window, np.array([x0, y0], dtype=np.int32)


def fit_mask(window: np.ndarray, box) -> tuple[np.ndarray, np.ndarray]:
    """A mask window resized to cover xyxy ``box`` (an object's mask moved to where it is now):
    ``(bool window, origin (x0, y0))``."""
    x0, y0 = math.floor(box[0]), math.floor(box[1])
    w = max(math.ceil(box[2]) - x0, 1)
    h = max(math.ceil(box[3]) - y0, 1)
    resized = cv2.resize(window.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    return resized.astype(bool), np.array([x0, y0], dtype=np.int32)


def paste_mask(window: np.ndarray, origin, image_shape) -> np.ndarray:
    """Place a box window back into an all-False full-image bool mask of ``image_shape[:2]``."""
    height, width = image_shape[:2]
    full = np.zeros((height, width), dtype=bool)
    x0, y0 = int(origin[0]), int(origin[1])
    # Clip in case the window was made for a different (larger) image.
    h = max(min(window.shape[0], height - y0), 0)
    w = max(min(window.shape[1], width - x0), 0)
    full[y0:y0 + h, x0:x0 + w] = window[:h, :w]
    return full


class InstanceMasks(NamedTuple):
    """The masks of one image's detections, as they travel apart from the boxes (a message of
    their own): a bool window per detection ((0, 0) = no mask), origins and the image size."""

    windows: list
    origins: np.ndarray  # (N, 2) x0, y0
    image_size: tuple[int, int] | None = None  # (width, height) of the source image

    def __len__(self) -> int:
        """Number of entries (one per detection)."""
        return len(self.windows)


@dataclass
class Detections:
    """Detections of one image; ``class_ids`` index into ``class_names``; masks are box windows."""

    boxes: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray
    class_names: list[str]
    masks: list[np.ndarray] | None = None
    mask_origins: np.ndarray | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self):
        """Normalise dtypes and shapes so consumers can rely on the contract."""
        self.boxes = np.asarray(self.boxes, dtype=np.float32).reshape(-1, 4)
        self.scores = np.asarray(self.scores, dtype=np.float32).reshape(-1)
        self.class_ids = np.asarray(self.class_ids, dtype=np.int64).reshape(-1)
        self.class_names = list(self.class_names)
        n = len(self.boxes)
        if len(self.scores) != n or len(self.class_ids) != n:
            raise ValueError(f'Detections: {n} boxes but {len(self.scores)} scores and '
                             f'{len(self.class_ids)} class ids')
        if self.masks is not None:
            self.mask_origins = np.asarray(self.mask_origins, dtype=np.int32).reshape(-1, 2)
            if len(self.masks) != n or len(self.mask_origins) != n:
                raise ValueError(f'Detections: {n} boxes but {len(self.masks)} masks and '
                                 f'{len(self.mask_origins)} mask origins')

    def __len__(self) -> int:
        """Number of detections."""
        return len(self.boxes)

    @classmethod
    def empty(cls, class_names, with_masks: bool = False) -> 'Detections':
        """No detections (with an empty mask list when the backend produces masks)."""
        return cls(np.zeros((0, 4)), np.zeros(0), np.zeros(0), class_names,
                   [] if with_masks else None, np.zeros((0, 2)) if with_masks else None)

    def labels(self) -> list[str]:
        """Class name of each detection."""
        return [self.class_names[i] for i in self.class_ids]

    def select(self, index) -> 'Detections':
        """Subset by an index array or bool mask, keeping class names and timings."""
        index = np.arange(len(self))[index]
        masks = None if self.masks is None else [self.masks[i] for i in index]
        origins = None if self.mask_origins is None else self.mask_origins[index]
        return Detections(self.boxes[index], self.scores[index], self.class_ids[index],
                          self.class_names, masks, origins, dict(self.timings))

    def with_masks(self, masks: InstanceMasks) -> 'Detections':
        """These detections with ``masks`` (None when no entry carries one); ValueError when the
        counts differ."""
        if len(masks) != len(self):
            raise ValueError(f'{len(masks)} masks for {len(self)} detections')
        has_mask = any(w.size for w in masks.windows)
        return Detections(self.boxes, self.scores, self.class_ids, self.class_names,
                          list(masks.windows) if has_mask else None,
                          masks.origins if has_mask else None, dict(self.timings))

    def full_masks(self, image_shape) -> np.ndarray:
        """All masks pasted back to full-image bool masks ``(N, H, W)``."""
        if self.masks is None:
            raise ValueError('these detections carry no masks')
        full = np.zeros((len(self), *image_shape[:2]), dtype=bool)
        for i, (window, origin) in enumerate(zip(self.masks, self.mask_origins)):
            full[i] = paste_mask(window, origin, image_shape)
        return full
