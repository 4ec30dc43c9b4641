"""Re-linking a newly confirmed track to a lost track of the same object (delayed re-id).

After an occlusion longer than the motion model can bridge, the object comes back as a new
tentative track. When that track is confirmed (n_init consecutive hits, so its appearance is
an average of several crops rather than one), it is compared with the confirmed tracks that
are lost this frame: a pair is a candidate when the new track's box lies inside the lost
track's motion gate (its covariance has grown over the gap) and their appearance is within
a cosine threshold. The best one-to-one assignment hands the lost track's id to the new track
and deletes the lost one, so the object keeps its id and the new track's fresh Kalman state.
"""

from __future__ import annotations

import numpy as np

from .kalman_filter import Innovation
from .linear_assignment import min_cost_matching

#: Chi-square 0.95 quantile for 2 degrees of freedom: the gate is on the box centre only.
CHI2INV95_2DOF = 5.9915


def centre_distance(innovation: Innovation, rows: np.ndarray, measurements: np.ndarray) -> np.ndarray:
    """(len(rows), N) squared Mahalanobis distance of box centres to the predicted centres.

    Only the centre counts: a box coming out of an occlusion is cut to its visible part, so
    its height and aspect ratio say little about whose it is.
    """
    projected, inverse = innovation.means, innovation.inverse_covs
    centre_cov = np.linalg.inv(inverse[rows])[:, :2, :2]
    diff = measurements[None, :, :2] - projected[rows, None, :2]  # (R, N, 2)
    return np.einsum('rni,rij,rnj->rn', diff, np.linalg.inv(centre_cov), diff)


def relink_pairs(gallery, innovation: Innovation, lost: np.ndarray, new: np.ndarray,
                 new_measurements: np.ndarray, new_features: np.ndarray, same_class: np.ndarray,
                 max_cosine_distance: float, margin: float = 0.0):
    """(lost rows, new rows) to merge: gated by motion, assigned on appearance distance."""
    gate = (centre_distance(innovation, lost, new_measurements) <= CHI2INV95_2DOF) & same_class
    cost = gallery.min_cosine_distance(lost, new_features, gate)
    if margin > 0.0 and len(lost) > 1:
        # Ambiguous when another lost track looks almost as similar: leave the new id.
        ordered = np.sort(cost, axis=0)
        with np.errstate(invalid='ignore'):  # inf - inf: no candidate at all
            clear = ordered[1] - ordered[0] >= margin
        cost = np.where(clear, cost, np.inf)
    r, c, _, _ = min_cost_matching(cost, max_cosine_distance)
    return lost[r], new[c]
