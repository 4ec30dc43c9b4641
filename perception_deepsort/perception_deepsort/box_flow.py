"""Per-track visual propagation between camera frames: Median Flow on each track's box.

Between two detections a track's box follows the image, not only the Kalman prediction. A grid
of points inside the box is followed into the next frame with pyramidal Lucas-Kanade flow and
back again (Kalal et al. 2010, "Forward-Backward Error"); the points that come back close to
where they started vote: the box moves by their median displacement and scales by the median
ratio of their pairwise distances. Every box of a frame goes through one optical-flow call, on
a grey copy of the frame at most ``width`` pixels wide.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Grid points per box side, and the share of the box's width/height the grid covers (centred:
#: the rim of a detection box is mostly background, which does not move with the object).
GRID = 4
GRID_SPAN = 0.6
#: Lucas-Kanade window and pyramid levels (at the flow resolution).
WINDOW = (9, 9)
LEVELS = 2
#: Lucas-Kanade stops after 10 iterations or a 0.03 px step: frame-to-frame motion is small.
CRITERIA = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 10, 0.03)
#: A box is followed only when at least this many grid points survive the checks.
MIN_POINTS = 4
#: Forward-backward error [px at flow resolution] above which a point is not trusted at all.
MAX_FB_ERROR = 2.0
#: Largest scale change accepted between two frames.
MAX_SCALE_STEP = 1.25
#: Smallest box side [px at flow resolution] worth following.
MIN_SIDE = 6.0


@dataclass(eq=False)
class FlowFrame:
    """A camera frame made ready for box flow: grey and downscaled."""

    grey: np.ndarray
    scale: float  # flow resolution / full resolution


class BoxFlow:
    """Median Flow of boxes from one prepared frame to the next."""

    def __init__(self, width: int = 640):
        self.width = width

    def prepare(self, image: np.ndarray) -> FlowFrame:
        """Grey (from RGB or grey ``image``), downscaled to at most ``width`` pixels."""
        grey = grey_of(image)
        scale = min(1.0, self.width / grey.shape[1])
        if scale < 1.0:
            grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        return FlowFrame(grey, scale)

    def track(self, previous: FlowFrame, current: FlowFrame,
              boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Boxes (T, 4) xyxy of ``previous`` followed into ``current``: ``(moved (T, 4), ok (T,))``.

        Rows that could not be followed (too small, outside, too few consistent points, frames
        of different sizes) have ok False and their input box.
        """
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        moved, ok = boxes.copy(), np.zeros(len(boxes), dtype=bool)
        if len(boxes) == 0 or previous.grey.shape != current.grey.shape:
            return moved, ok
        scaled = boxes * previous.scale
        size = scaled[:, 2:] - scaled[:, :2]
        followable = (size >= MIN_SIDE).all(axis=1)
        rows = np.flatnonzero(followable)
        if len(rows) == 0:
            return moved, ok
        points = _grid(scaled[rows])  # (R * GRID², 2)
        forward, status, _ = cv2.calcOpticalFlowPyrLK(previous.grey, current.grey, points, None,
                                                      winSize=WINDOW, maxLevel=LEVELS,
                                                      criteria=CRITERIA)
        backward, status_back, _ = cv2.calcOpticalFlowPyrLK(current.grey, previous.grey, forward,
                                                            None, winSize=WINDOW,
                                                            maxLevel=LEVELS, criteria=CRITERIA)
        per_box = GRID * GRID
        shape = (len(rows), per_box)
        error = np.linalg.norm(backward - points, axis=1).reshape(shape)
        good = ((status.ravel() == 1) & (status_back.ravel() == 1)).reshape(shape)
        good &= error <= MAX_FB_ERROR
        # Median Flow keeps the better half of the points by forward-backward error.
        error = np.where(good, error, np.nan)
        usable = good.sum(axis=1) >= MIN_POINTS
        good &= error <= row_median(error)[:, None]
        usable &= good.sum(axis=1) >= MIN_POINTS
        if not usable.any():
            return moved, ok
        before = points.reshape(*shape, 2)
        after = forward.reshape(*shape, 2)
        moves = np.where(good[..., None], after - before, np.nan)[usable]
        shift = np.stack([row_median(moves[..., 0]), row_median(moves[..., 1])], axis=1)
        scale = _median_scale(before[usable], after[usable], good[usable])
        rows, size = rows[usable], size[rows[usable]]
        centre = (scaled[rows, :2] + scaled[rows, 2:]) / 2 + shift
        half = size * scale[:, None] / 2
        moved[rows] = np.hstack([centre - half, centre + half]) / previous.scale
        ok[rows] = True
        return moved, ok


def _grid(boxes: np.ndarray) -> np.ndarray:
    """(len(boxes) * GRID², 2) float32 grid points centred in each box."""
    steps = (np.arange(GRID) + 0.5) / GRID - 0.5  # -0.5..0.5 exclusive
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    size = (boxes[:, 2:] - boxes[:, :2]) * GRID_SPAN
    gx, gy = np.meshgrid(steps, steps)
    offsets = np.stack([gx.ravel(), gy.ravel()], axis=1)  # (GRID², 2)
    points = centre[:, None, :] + offsets[None, :, :] * size[:, None, :]
    return points.reshape(-1, 2).astype(np.float32)


def _median_scale(before: np.ndarray, after: np.ndarray, good: np.ndarray) -> np.ndarray:
    """(B,) median ratio of the pairwise distances of each box's good points (B, P, 2), after
    over before, clipped to a plausible step."""
    i, j = np.triu_indices(before.shape[1], k=1)
    d_before = np.linalg.norm(before[:, i] - before[:, j], axis=2)
    d_after = np.linalg.norm(after[:, i] - after[:, j], axis=2)
    pairs = good[:, i] & good[:, j] & (d_before > 1.0)
    ratio = np.where(pairs, d_after / np.maximum(d_before, 1e-9), np.nan)
    return np.clip(np.nan_to_num(row_median(ratio), nan=1.0), 1.0 / MAX_SCALE_STEP, MAX_SCALE_STEP)


def row_median(values: np.ndarray) -> np.ndarray:
    """Median of each row's non-NaN values (NaN for a row without any): np.nanmedian along
    axis 1, without its masked-array cost on every frame."""
    ordered = np.sort(values, axis=1)  # NaN last
    count = np.count_nonzero(~np.isnan(values), axis=1)
    low = np.take_along_axis(ordered, np.maximum((count - 1) // 2, 0)[:, None], axis=1)[:, 0]
    high = np.take_along_axis(ordered, np.maximum(count // 2, 0)[:, None], axis=1)[:, 0]
    return np.where(count > 0, (low + high) / 2, np.nan)


def grey_of(image: np.ndarray) -> np.ndarray:
    """A grey copy of an RGB image (a grey one as it is)."""
    if image.ndim == 2:
        return image
    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
