"""Drawing of detections and tracks (masks, boxes, labels, trails): one module for every tool."""
from __future__ import annotations

import colorsys
import zlib

import cv2
import numpy as np

_GOLDEN_RATIO = 0.618033988749895
_MASK_ALPHA = 0.45
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def color_for(key) -> tuple[int, int, int]:
    """Stable, well separated RGB colour for a track id, class name or any other key."""
    index = key if isinstance(key, (int, np.integer)) else zlib.crc32(str(key).encode())
    # Golden-ratio hue steps keep consecutive ids far apart on the colour wheel.
    hue = (int(index) * _GOLDEN_RATIO) % 1.0
    value = 1.0 if int(index) % 2 == 0 else 0.8
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, value)
    return int(r * 255), int(g * 255), int(b * 255)


def _tint(image: np.ndarray, mask: np.ndarray, origin, color) -> None:
    """Blend ``color`` into ``image`` where the box-window ``mask`` placed at ``origin`` is set."""
    x0, y0 = int(origin[0]), int(origin[1])
    h = max(min(mask.shape[0], image.shape[0] - y0), 0)
    w = max(min(mask.shape[1], image.shape[1] - x0), 0)
    if h == 0 or w == 0:
        return
    roi = image[y0:y0 + h, x0:x0 + w]
    sel = mask[:h, :w].astype(bool)
    roi[sel] = (roi[sel] * (1.0 - _MASK_ALPHA) + np.asarray(color) * _MASK_ALPHA).astype(np.uint8)


def _label(image: np.ndarray, text: str, x: int, y: int, color) -> None:
    """Text on a filled background of ``color`` just above ``(x, y)`` (below at the top edge)."""
    scale = max(0.4, min(image.shape[:2]) / 1200.0)
    (tw, th), baseline = cv2.getTextSize(text, _FONT, scale, 1)
    top = y - th - baseline - 2 if y - th - baseline - 2 >= 0 else y
    cv2.rectangle(image, (x, top), (x + tw + 2, top + th + baseline + 2), color, cv2.FILLED)
    # Dark text on light colours, white on dark ones.
    luminance = 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]
    ink = (0, 0, 0) if luminance > 140 else (255, 255, 255)
    cv2.putText(image, text, (x + 1, top + th + 1), _FONT, scale, ink, 1, cv2.LINE_AA)


def draw_instances(image_rgb: np.ndarray, boxes, labels, colors, masks=None, origins=None,
                   trails=None) -> np.ndarray:
    """Annotated copy of ``image_rgb``: tinted masks, boxes, labels and motion trails.

    ``boxes`` (N, 4) xyxy px; ``labels`` N strings; ``colors`` N RGB tuples; ``masks`` N bool
    box windows (or None entries) placed at ``origins`` (N, 2) x0, y0; ``trails`` N sequences of
    (x, y) points, oldest first (or None entries).
    """
    out = np.array(image_rgb, dtype=np.uint8, copy=True, order='C')
    thickness = max(1, min(out.shape[:2]) // 360)
    if masks is not None:
        for mask, origin, color in zip(masks, origins, colors):
            if mask is not None and mask.size:
                _tint(out, mask, origin, color)
    if trails is not None:
        for trail, color in zip(trails, colors):
            if trail is not None and len(trail) > 1:
                points = np.round(np.asarray(trail, dtype=np.float64)).astype(np.int32)
                cv2.polylines(out, [points.reshape(-1, 1, 2)], False, color, thickness, cv2.LINE_AA)
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    for box, label, color in zip(boxes, labels, colors):
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        cv2.rectangle(out, (x1, y1), (x2, y2), color, thickness)
        if label:
            _label(out, label, max(x1, 0), max(y1, 0), color)
    return out
