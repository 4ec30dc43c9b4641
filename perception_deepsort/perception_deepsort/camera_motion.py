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

from .box_flow import grey_of

LOGGER = logging.getLogger(__name__)

#: Fewer tracked corners than this and the estimate is not trusted.
MIN_POINTS = 10


@dataclass(eq=False)
class MotionFrame:
    """A frame downscaled to grey for motion estimation."""

    grey: np.ndarray
    scale: float  # downscaled / full resolution


class CameraMotionEstimator:
    """Sparse optical-flow estimate of the image motion between two prepared frames.

    Stateless between calls: the per-frame engine keeps the prepared frames and asks again for
    the motion of a frame it replays (the objects to avoid may have moved by then).
    """

    def __init__(self, width: int = 320, max_corners: int = 100):
        self.width = width
        self.max_corners = max_corners

    def prepare(self, image: np.ndarray) -> MotionFrame:
        """Grey (from RGB or grey ``image``), downscaled to at most ``width`` pixels."""
        return MotionFrame(*self._downscale(image))

    def motion(self, previous: MotionFrame, current: MotionFrame,
               object_boxes: np.ndarray | None = None) -> np.ndarray | None:
        """(2, 3) affine from ``previous`` to ``current``, in full-resolution pixels.

        None after a size change or when too few corners are tracked. ``object_boxes`` (xyxy,
        full resolution, in ``previous``) are kept free of corners: objects move on their own.
        """
        if previous.grey.shape != current.grey.shape:
            return None
        points = self._corners(previous.grey, object_boxes, previous.scale)
        affine = self._fit(previous.grey, current.grey, points)
        if affine is not None:
            affine[:, 2] /= current.scale  # translation back to full-resolution pixels
        return affine

    def _downscale(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """Grey image at most `width` pixels wide, and the scale factor applied."""
        grey = grey_of(image)
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
