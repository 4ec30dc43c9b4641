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

    def prepare(self, image_rgb: np.ndarray) -> FlowFrame:
        """Grey, downscaled to at most ``width`` pixels."""
        grey = cv2.cvtColor(np.ascontiguousarray(image_rgb), cv2.COLOR_RGB2GRAY)
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
        error = np.linalg.norm(backward - points, axis=1)
        good = (status.ravel() == 1) & (status_back.ravel() == 1) & (error <= MAX_FB_ERROR)
        per_box = GRID * GRID
        for i, row in enumerate(rows):
            span = slice(i * per_box, (i + 1) * per_box)
            keep = good[span]
            if keep.sum() < MIN_POINTS:
                continue
            # Median Flow keeps the better half of the points by forward-backward error.
            keep &= error[span] <= np.median(error[span][keep])
            if keep.sum() < MIN_POINTS:
                continue
            before, after = points[span][keep], forward[span][keep]
            shift = np.median(after - before, axis=0)
            scale = _median_scale(before, after)
            centre = (scaled[row, :2] + scaled[row, 2:]) / 2 + shift
            half = size[row] * scale / 2
            moved[row] = np.concatenate([centre - half, centre + half]) / previous.scale
            ok[row] = True
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


def _median_scale(before: np.ndarray, after: np.ndarray) -> float:
    """Median ratio of pairwise point distances after / before, clipped to a plausible step."""
    i, j = np.triu_indices(len(before), k=1)
    d_before = np.linalg.norm(before[i] - before[j], axis=1)
    d_after = np.linalg.norm(after[i] - after[j], axis=1)
    usable = d_before > 1.0
    if not usable.any():
        return 1.0
    scale = float(np.median(d_after[usable] / d_before[usable]))
    return float(np.clip(scale, 1.0 / MAX_SCALE_STEP, MAX_SCALE_STEP))
