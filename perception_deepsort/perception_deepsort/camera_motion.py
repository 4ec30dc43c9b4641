"""Global camera motion between consecutive frames, and warping track states by it.

Motion is estimated on a downscaled grey frame: corners (goodFeaturesToTrack) of the previous
frame, away from detected objects (they move on their own), are followed into the current
frame with pyramidal Lucas-Kanade flow, and a similarity transform (rotation, uniform scale,
translation) is fitted with RANSAC. The transform maps previous-frame pixels to current-frame
pixels.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

LOGGER = logging.getLogger(__name__)

#: Fewer tracked corners than this and the estimate is not trusted.
MIN_POINTS = 10


@dataclass(eq=False)
class MotionFrame:
    """A frame downscaled to grey for motion estimation, and its motion once computed."""

    grey: np.ndarray
    scale: float  # downscaled / full resolution
    affine: np.ndarray | None = None  # motion from previous frame `source` to this one
    source: int | None = None  # serial of the previous frame `affine` belongs to; None = none yet


class CameraMotionEstimator:
    """Sparse optical-flow estimate of the image motion since the previous frame.

    estimate() does everything at once. For a node that gets images ahead of their detections,
    the image-only work splits off with identical results: prepare() on arrival, motion_to()
    once the previous frame is tracked, and settle() (the previous frame's corners) when idle.
    """

    def __init__(self, width: int = 320, max_corners: int = 100):
        self.width = width
        self.max_corners = max_corners
        self._serial = 0
        self.reset()

    def reset(self) -> None:
        """Forget the previous frame."""
        self._previous: np.ndarray | None = None
        self._previous_points: np.ndarray | None = None
        self._pending: tuple | None = None  # (boxes, scale) of corners not yet found
        self._serial += 1  # motion computed against the forgotten frame is stale now

    @property
    def ready(self) -> bool:
        """Whether a previous frame is stored (the next estimate can succeed)."""
        return self._previous is not None

    def prepare(self, image_rgb: np.ndarray) -> MotionFrame:
        """The image-only part of estimate(): grey, downscaled."""
        return MotionFrame(*self._downscale(image_rgb))

    def settle(self) -> None:
        """Find the corners of the previous frame now (estimate() leaves them for later)."""
        if self._pending is not None:
            boxes, scale = self._pending
            self._pending = None
            self._previous_points = self._corners(self._previous, boxes, scale)

    def motion_to(self, frame: MotionFrame) -> np.ndarray | None:
        """(2, 3) affine from the previous frame to `frame` (None as in estimate()); no state
        change: the result is kept in `frame` for the estimate() that tracks it."""
        if frame.source != self._serial:
            affine = None
            if self._previous is not None and self._previous.shape == frame.grey.shape:
                self.settle()
                affine = self._fit(self._previous, frame.grey, self._previous_points)
                if affine is not None:
                    affine[:, 2] /= frame.scale  # translation back to full-resolution pixels
            frame.affine, frame.source = affine, self._serial
        return None if frame.affine is None else frame.affine.copy()

    def estimate(self, image_rgb: np.ndarray | MotionFrame,
                 object_boxes: np.ndarray | None = None) -> np.ndarray | None:
        """(2, 3) affine from the previous frame to this one, in full-resolution pixels.

        None on the first frame, after a size change, or when too few corners are tracked.
        `object_boxes` (xyxy, full resolution) are excluded from the corners of this frame.
        `image_rgb` may be a prepare()d frame.
        """
        frame = image_rgb if isinstance(image_rgb, MotionFrame) else self.prepare(image_rgb)
        affine = self.motion_to(frame)
        self._previous = frame.grey
        # Corners of this frame are needed only by the next one: found by settle(), off the
        # critical path of a node, or at the latest by the next motion_to().
        self._pending = (None if object_boxes is None else np.array(object_boxes), frame.scale)
        self._previous_points = None
        self._serial += 1
        return affine

    def _downscale(self, image_rgb: np.ndarray) -> tuple[np.ndarray, float]:
        """Grey image at most `width` pixels wide, and the scale factor applied."""
        grey = cv2.cvtColor(np.ascontiguousarray(image_rgb), cv2.COLOR_RGB2GRAY)
        scale = min(1.0, self.width / grey.shape[1])
        if scale < 1.0:
            grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        return grey, scale

    def _corners(self, grey: np.ndarray, object_boxes: np.ndarray | None,
                 scale: float) -> np.ndarray | None:
        """Good features to track outside the object boxes."""
        mask = np.full(grey.shape, 255, dtype=np.uint8)
        if object_boxes is not None:
            for x1, y1, x2, y2 in np.round(np.asarray(object_boxes) * scale).astype(int):
                mask[max(y1, 0):max(y2, 0), max(x1, 0):max(x2, 0)] = 0
        min_distance = max(3, grey.shape[1] // 40)
        return cv2.goodFeaturesToTrack(grey, self.max_corners, 0.01, min_distance, mask=mask,
                                       blockSize=3)

    def _fit(self, previous: np.ndarray, current: np.ndarray,
             points: np.ndarray | None) -> np.ndarray | None:
        """Similarity transform from flow of `points`, or None when unreliable."""
        if points is None or len(points) < MIN_POINTS:
            LOGGER.debug('camera motion: too few corners in the previous frame')
            return None
        # Four pyramid levels follow jumps of ~50 px at the downscaled size (a shaking dashcam).
        moved, status, _ = cv2.calcOpticalFlowPyrLK(previous, current, points, None,
                                                    winSize=(15, 15), maxLevel=3)
        ok = status.ravel() == 1
        if ok.sum() < MIN_POINTS:
            LOGGER.debug('camera motion: optical flow lost the corners')
            return None
        affine, inliers = cv2.estimateAffinePartial2D(points[ok], moved[ok], method=cv2.RANSAC,
                                                      ransacReprojThreshold=1.0)
        if affine is None or inliers is None or inliers.sum() < MIN_POINTS:
            LOGGER.debug('camera motion: no consistent global motion')
            return None
        return affine


def warp_states(means: np.ndarray, covs: np.ndarray, affine: np.ndarray,
                box_state: str = 'xyah') -> tuple[np.ndarray, np.ndarray]:
    """Move Kalman states (u, v, a or w, h, velocities) into the frame given by a similarity
    affine.

    Centres are transformed, sizes and velocities scaled/rotated by the linear part; the
    aspect ratio is kept (small rotations).
    """
    if len(means) == 0:
        return means, covs
    linear = affine[:, :2]
    scale = float(np.sqrt(abs(np.linalg.det(linear))))
    jacobian = np.zeros((8, 8))
    for offset in (0, 4):  # position block and velocity block transform alike
        jacobian[offset:offset + 2, offset:offset + 2] = linear
        jacobian[offset + 2, offset + 2] = 1.0 if box_state == 'xyah' else scale
        jacobian[offset + 3, offset + 3] = scale
    means = means @ jacobian.T
    means[:, :2] += affine[:, 2]
    covs = jacobian @ covs @ jacobian.T
    return means, covs
