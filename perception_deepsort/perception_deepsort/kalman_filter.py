"""Constant-velocity Kalman filter on (u, v, a, h), batched over all tracks.

State per track: box centre (u, v), aspect ratio a = w / h, height h, and their velocities,
in pixels (or aspect units) per *nominal frame*. The noise model is the reference DeepSORT one:
standard deviations proportional to the box height. A step of `steps` nominal frames scales
the transition by `steps` and the process-noise variance by `steps` (a random walk), so
`steps=1` reproduces the reference filter exactly.
"""

from __future__ import annotations

import numpy as np

NDIM = 4


class KalmanFilter:
    """Batched Kalman filter: every method takes stacks of means (T, 8) and covariances (T, 8, 8)."""

    def __init__(self, std_weight_position: float = 1.0 / 20,
                 std_weight_velocity: float = 1.0 / 160):
        self.std_weight_position = std_weight_position
        self.std_weight_velocity = std_weight_velocity

    def _stds(self, heights: np.ndarray, position_scale: float, velocity_scale: float | None,
              aspect_std: float, aspect_velocity_std: float = 0.0) -> np.ndarray:
        """Standard deviations (T, 4), or (T, 8) with velocities, proportional to the box height."""
        scale = [position_scale, position_scale, 0.0, position_scale]
        const = [0.0, 0.0, aspect_std, 0.0]
        if velocity_scale is not None:
            scale += [velocity_scale, velocity_scale, 0.0, velocity_scale]
            const += [0.0, 0.0, aspect_velocity_std, 0.0]
        return heights[:, None] * np.asarray(scale) + np.asarray(const)

    def initiate(self, measurements: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """New tracks from measurements (N, 4) in (u, v, a, h): zero velocity, wide uncertainty."""
        measurements = np.asarray(measurements, dtype=np.float64).reshape(-1, NDIM)
        means = np.hstack([measurements, np.zeros_like(measurements)])
        std = self._stds(measurements[:, 3], 2 * self.std_weight_position,
                         10 * self.std_weight_velocity, 1e-2, 1e-5)
        covs = np.zeros((len(means), 2 * NDIM, 2 * NDIM))
        idx = np.arange(2 * NDIM)
        covs[:, idx, idx] = std ** 2
        return means, covs

    def predict(self, means: np.ndarray, covs: np.ndarray,
                steps: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """Propagate all tracks by `steps` nominal frames (may be fractional; 0 = no motion)."""
        if len(means) == 0 or steps == 0.0:
            return means, covs
        motion = np.eye(2 * NDIM)
        motion[np.arange(NDIM), NDIM + np.arange(NDIM)] = steps
        std = self._stds(means[:, 3], self.std_weight_position, self.std_weight_velocity,
                         1e-2, 1e-5)
        means = means @ motion.T
        covs = motion @ covs @ motion.T
        idx = np.arange(2 * NDIM)
        covs[:, idx, idx] += steps * std ** 2
        return means, covs

    def project(self, means: np.ndarray, covs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Measurement-space means (T, 4) and innovation covariances (T, 4, 4)."""
        std = self._stds(means[:, 3], self.std_weight_position, None, 1e-1)
        projected = covs[:, :NDIM, :NDIM].copy()
        idx = np.arange(NDIM)
        projected[:, idx, idx] += std ** 2
        return means[:, :NDIM], projected

    def update(self, means: np.ndarray, covs: np.ndarray,
               measurements: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Correct each track (row) with its measurement (row) in (u, v, a, h)."""
        if len(means) == 0:
            return means, covs
        projected_means, innovation_covs = self.project(means, covs)
        cross = covs[:, :, :NDIM]  # P H^T, shape (T, 8, 4)
        gain = np.linalg.solve(innovation_covs, cross.transpose(0, 2, 1)).transpose(0, 2, 1)
        innovation = measurements - projected_means
        means = means + np.einsum('tij,tj->ti', gain, innovation)
        # P - K S K^T == P - K (P H^T)^T because K S = P H^T.
        covs = covs - gain @ cross.transpose(0, 2, 1)
        return means, covs

    def gating_distance(self, means: np.ndarray, covs: np.ndarray, measurements: np.ndarray,
                        only_position: bool = False) -> np.ndarray:
        """Squared Mahalanobis distances (T, N) between every track and every measurement."""
        measurements = np.asarray(measurements, dtype=np.float64).reshape(-1, NDIM)
        if len(means) == 0 or len(measurements) == 0:
            return np.zeros((len(means), len(measurements)))
        projected_means, innovation_covs = self.project(means, covs)
        if only_position:
            projected_means, innovation_covs = projected_means[:, :2], innovation_covs[:, :2, :2]
            measurements = measurements[:, :2]
        diff = measurements[None, :, :] - projected_means[:, None, :]  # (T, N, d)
        weighted = diff @ np.linalg.inv(innovation_covs)  # S is symmetric: d^T S^-1 == (S^-1 d)^T
        return np.einsum('tnd,tnd->tn', weighted, diff)
