"""Appearance guards: ambiguous relinks (small hand-made scenes)."""

import numpy as np

from perception_deepsort.kalman_filter import Innovation
from perception_deepsort.nn_matching import FeatureGallery
from perception_deepsort.relink import relink_pairs

A, B = np.eye(8)[0], np.eye(8)[1]  # two orthogonal looks


def test_relink_margin_refuses_an_ambiguous_relink():
    # Two lost tracks (rows 0, 1) predicted at the same place, one new track (row 2) between
    # them that looks slightly more like row 0.
    gallery = FeatureGallery(budget=5)
    gallery.add_rows(3)
    new_look = np.array([[0.72, 0.69] + [0.0] * 6], dtype=np.float32)
    new_look /= np.linalg.norm(new_look)
    gallery.append(np.arange(3), np.vstack([A, B, new_look[0]]).astype(np.float32))
    projected = np.array([[100.0, 200.0, 0.4, 100.0]] * 3)
    innovation = Innovation(projected, np.repeat(np.eye(4)[None] / 25.0, 3, axis=0))
    lost, new, same_class = np.array([0, 1]), np.array([2]), np.ones((2, 1), dtype=bool)
    args = (gallery, innovation, lost, new, projected[new], new_look, same_class, 0.4)
    assert relink_pairs(*args, margin=0.0)[0].tolist() == [0]
    assert relink_pairs(*args, margin=0.05)[0].tolist() == []
    one_lost = (gallery, innovation, lost[:1], new, projected[new], new_look, same_class[:1], 0.4)
    assert relink_pairs(*one_lost, margin=0.05)[0].tolist() == [0]  # no rival: relinked
