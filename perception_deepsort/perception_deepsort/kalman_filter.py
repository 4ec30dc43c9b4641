"""Constant-velocity Kalman filter on a box state, batched over all tracks.

Two box states (`box_state`), each with its velocities, in pixels per *nominal frame*:
- 'xyah' (the paper): centre (u, v), aspect ratio a = w / h, height h; every standard
  deviation is proportional to the box height (the aspect ratio has a small fixed one);
- 'xywh' (BoT-SORT): centre (u, v), width w, height h; the standard deviations of u and w are
  proportional to the width, those of v and h to the height, so a narrow box (a person) has
  little horizontal noise and a wide one (a car seen from behind) is not held to a
  height-sized one, and width changes (a box cut by an occluder or the image border) are
  tracked as such rather than as aspect-ratio changes.
A step of `steps` nominal frames scales the transition by `steps` and the process-noise
variance by `steps` (a random walk), so `steps=1` reproduces the reference filter exactly.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .detection import xyah_to_xyxy, xywh_to_xyxy, xyxy_to_xyah, xyxy_to_xywh

NDIM = 4

#: The box states a filter can run on.
BOX_STATES = ('xyah', 'xywh')


def _add_to_diagonals(matrices: np.ndarray, values: np.ndarray) -> np.ndarray:
    """matrices (T, d, d) with values (T, d) added to their diagonals (in place when contiguous)."""
    matrices = np.ascontiguousarray(matrices)
    dim = matrices.shape[-1]
    matrices.reshape(len(matrices), dim * dim)[:, ::dim + 1] += values
    return matrices


class Innovation(NamedTuple):
    """Tracks projected into measurement space, shared by gating and the Kalman update."""

    means: np.ndarray  # (T, 4) projected means (u, v, a, h)
    inverse_covs: np.ndarray  # (T, 4, 4) inverse innovation covariances

    def rows(self, rows: np.ndarray) -> 'Innovation':
        """The innovation of some tracks."""
        return Innovation(self.means[rows], self.inverse_covs[rows])


class KalmanFilter:
    """Batched Kalman filter: methods take stacks of means (T, 8) and covariances (T, 8, 8)."""

    def __init__(self, std_weight_position: float = 1.0 / 20,
                 std_weight_velocity: float = 1.0 / 160,
                 initial_velocity_std: float | None = None, box_state: str = 'xyah'):
        """initial_velocity_std: a new track's velocity std (fraction of the box size per
        frame); default 10 * std_weight_velocity, as in the paper. box_state: one of BOX_STATES."""
        if box_state not in BOX_STATES:
            raise ValueError(f'box_state must be one of {BOX_STATES}, got {box_state!r}')
        self.box_state = box_state
        self.std_weight_position = std_weight_position
        self.std_weight_velocity = std_weight_velocity
        wp, wv = std_weight_position, std_weight_velocity
        wv0 = 10 * wv if initial_velocity_std is None else initial_velocity_std
        # Standard deviations are size * scale + offset per state or measurement component,
        # where size is the state column _size_columns names (the height; xywh: u, w by width).
        if box_state == 'xyah':
            self._size_columns = np.full(2 * NDIM, 3)
            self._initial_std = (np.array([2 * wp, 2 * wp, 0, 2 * wp, wv0, wv0, 0, wv0]),
                                 np.array([0, 0, 1e-2, 0, 0, 0, 1e-5, 0]))
            self._process_std = (np.array([wp, wp, 0, wp, wv, wv, 0, wv]),
                                 np.array([0, 0, 1e-2, 0, 0, 0, 1e-5, 0]))
            self._measurement_std = (np.array([wp, wp, 0, wp]), np.array([0, 0, 1e-1, 0]))
        else:
            self._size_columns = np.array([2, 3, 2, 3, 2, 3, 2, 3])
            self._initial_std = (np.repeat([2 * wp, wv0], NDIM), np.zeros(2 * NDIM))
            self._process_std = (np.repeat([wp, wv], NDIM), np.zeros(2 * NDIM))
            self._measurement_std = (np.full(NDIM, wp), np.zeros(NDIM))
        self._last_motion: tuple[float, np.ndarray] | None = None

    def _variances(self, states: np.ndarray, std: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Per-track variances (T, d) of the size-proportional noise model (scale, offset)."""
        sizes = states[:, self._size_columns[:len(std[0])]]
        return (sizes * std[0] + std[1]) ** 2

    def measure(self, boxes: np.ndarray) -> np.ndarray:
        """(N, 4) x1, y1, x2, y2 boxes as measurements of the box state."""
        return (xyxy_to_xyah if self.box_state == 'xyah' else xyxy_to_xywh)(boxes)

    def boxes(self, means: np.ndarray) -> np.ndarray:
        """(T, 4) x1, y1, x2, y2 boxes of states (T, >= 4)."""
        return (xyah_to_xyxy if self.box_state == 'xyah' else xywh_to_xyxy)(means[:, :NDIM])

    def initiate(self, measurements: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """New tracks from measurements (N, 4): zero velocity, wide uncertainty."""
        measurements = np.asarray(measurements, dtype=np.float64).reshape(-1, NDIM)
        means = np.hstack([measurements, np.zeros_like(measurements)])
        covs = np.zeros((len(means), 2 * NDIM, 2 * NDIM))
        return means, _add_to_diagonals(covs, self._variances(means, self._initial_std))

    def predict(self, means: np.ndarray, covs: np.ndarray,
                steps: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """Propagate all tracks by `steps` nominal frames (may be fractional; 0 = no motion)."""
        if len(means) == 0 or steps == 0.0:
            return means, covs
        motion = self._motion(steps)
        process_noise = steps * self._variances(means, self._process_std)
        return means @ motion.T, _add_to_diagonals(motion @ covs @ motion.T, process_noise)

    def _motion(self, steps: float) -> np.ndarray:
        """Transition matrix of a `steps`-frame constant-velocity step (the last one is reused)."""
        if self._last_motion is None or self._last_motion[0] != steps:
            motion = np.eye(2 * NDIM)
            motion[np.arange(NDIM), NDIM + np.arange(NDIM)] = steps
            motion.flags.writeable = False
            self._last_motion = (steps, motion)
        return self._last_motion[1]

    def project(self, means: np.ndarray, covs: np.ndarray,
                noise_scale: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Measurement-space means (T, 4) and innovation covariances (T, 4, 4).

        noise_scale (T,) multiplies each track's measurement noise std (NSA Kalman).
        """
        noise = self._variances(means, self._measurement_std)
        if noise_scale is not None:
            noise = noise * np.asarray(noise_scale, dtype=np.float64)[:, None] ** 2
        projected = _add_to_diagonals(covs[:, :NDIM, :NDIM].copy(), noise)
        return means[:, :NDIM], projected

    def innovation(self, means: np.ndarray, covs: np.ndarray,
                   noise_scale: np.ndarray | None = None) -> Innovation:
        """Projected means (T, 4) and inverse innovation covariances (T, 4, 4).

        Computed once per frame and shared by gating and update (4x4 SPD inverses are exact
        enough here and cheaper than repeated solves).
        """
        projected_means, innovation_covs = self.project(means, covs, noise_scale)
        return Innovation(projected_means, np.linalg.inv(innovation_covs))

    def update(self, means: np.ndarray, covs: np.ndarray, measurements: np.ndarray,
               innovation: Innovation | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Correct each track (row) with its measurement (row) in the box state."""
        if len(means) == 0:
            return means, covs
        projected_means, inverse_covs = innovation or self.innovation(means, covs)
        cross = covs[:, :, :NDIM]  # P H^T, shape (T, 8, 4)
        gain = cross @ inverse_covs
        means = means + (gain @ (measurements - projected_means)[:, :, None])[:, :, 0]
        # P - K S K^T == P - K (P H^T)^T because K S = P H^T. That form does not keep P
        # symmetric in floating point, and rounding from camera-motion warps grows through it
        # frame after frame, so the result is symmetrised.
        covs = covs - gain @ cross.transpose(0, 2, 1)
        return means, 0.5 * (covs + covs.transpose(0, 2, 1))

    def gating_distance(self, means: np.ndarray, covs: np.ndarray,
                        measurements: np.ndarray) -> np.ndarray:
        """Squared Mahalanobis distances (T, N) between every track and every measurement."""
        return squared_mahalanobis(*self.innovation(means, covs), measurements)


def squared_mahalanobis(projected_means: np.ndarray, inverse_covs: np.ndarray,
                        measurements: np.ndarray) -> np.ndarray:
    """(T, N) distances of measurements (N, 4) to projected tracks (means (T, 4), S^-1 (T, 4, 4)).

    (z - m)^T A (z - m) = <A, z z^T> - 2 (A m)^T z + m^T A m: three matrix products for all
    pairs instead of T x N small solves. Centring first keeps it exact in float64.
    """
    if len(projected_means) == 0 or len(measurements) == 0:
        return np.zeros((len(projected_means), len(measurements)))
    centre = np.add.reduce(measurements, axis=0) / len(measurements)  # mean(), minus overhead
    z, m = measurements - centre, projected_means - centre
    weighted_means = (inverse_covs @ m[:, :, None])[:, :, 0]
    outer = (z[:, :, None] * z[:, None, :]).reshape(len(z), NDIM * NDIM)
    return (inverse_covs.reshape(len(m), NDIM * NDIM) @ outer.T
            - 2.0 * weighted_means @ z.T + np.einsum('td,td->t', weighted_means, m)[:, None])
