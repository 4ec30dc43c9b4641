"""Kalman filter and gating against hand-computed values (reference noise model)."""

import numpy as np
import pytest

from perception_deepsort.kalman_filter import KalmanFilter

# Box centre (100, 50), aspect 0.5, height 80: position std = h/20 = 4 (initial: 2x = 8),
# velocity std = h/160 = 0.5 (initial: 10x = 5).
MEASUREMENT = np.array([[100.0, 50.0, 0.5, 80.0]])


def test_initiate_uses_reference_uncertainty():
    mean, cov = KalmanFilter().initiate(MEASUREMENT)
    np.testing.assert_allclose(mean, [[100, 50, 0.5, 80, 0, 0, 0, 0]])
    np.testing.assert_allclose(np.diag(cov[0]), [64, 64, 1e-4, 64, 25, 25, 1e-10, 25])
    assert np.count_nonzero(cov[0] - np.diag(np.diag(cov[0]))) == 0


def test_predict_one_and_two_steps():
    kf = KalmanFilter()
    mean, cov = kf.initiate(MEASUREMENT)
    mean[0, 4:] = [2.0, -1.0, 0.0, 0.5]
    one_mean, one_cov = kf.predict(mean, cov, steps=1.0)
    np.testing.assert_allclose(one_mean[0, :4], [102, 49, 0.5, 80.5])
    # P_uu = 64 + 25 (velocity) + 16 (process noise (h/20)^2); P_u,vu = 25; P_vu = 25 + 0.25.
    assert one_cov[0, 0, 0] == pytest.approx(105.0)
    assert one_cov[0, 0, 4] == pytest.approx(25.0)
    assert one_cov[0, 4, 4] == pytest.approx(25.25)
    two_mean, two_cov = kf.predict(mean, cov, steps=2.0)
    np.testing.assert_allclose(two_mean[0, :4], [104, 48, 0.5, 81])
    # Transition scaled by 2, process variance scaled by 2: 64 + 4*25 + 2*16.
    assert two_cov[0, 0, 0] == pytest.approx(196.0)
    assert two_cov[0, 0, 4] == pytest.approx(50.0)
    assert two_cov[0, 4, 4] == pytest.approx(25.5)
    same_mean, same_cov = kf.predict(mean, cov, steps=0.0)
    np.testing.assert_array_equal(same_mean, mean)
    np.testing.assert_array_equal(same_cov, cov)


def test_update_from_initial_state():
    kf = KalmanFilter()
    mean, cov = kf.initiate(MEASUREMENT)
    new_mean, new_cov = kf.update(mean, cov, np.array([[104.0, 50.0, 0.5, 80.0]]))
    # S_uu = 64 + (h/20)^2 = 80, gain 0.8: u = 100 + 0.8 * 4, P_uu = 64 - 64^2 / 80.
    assert new_mean[0, 0] == pytest.approx(103.2)
    assert new_cov[0, 0, 0] == pytest.approx(12.8)
    assert new_mean[0, 4] == pytest.approx(0.0)  # no position-velocity correlation yet


def test_update_after_predict_corrects_velocity():
    kf = KalmanFilter()
    mean, cov = kf.predict(*kf.initiate(MEASUREMENT))
    new_mean, _ = kf.update(mean, cov, np.array([[111.0, 50.0, 0.5, 80.0]]))
    # S_uu = 89 + 16 + 16 = 121 (covariance 64 + 25 + 16 after predict, plus R = 16).
    assert new_mean[0, 0] == pytest.approx(100 + 105 / 121 * 11)
    assert new_mean[0, 4] == pytest.approx(25 / 121 * 11)


def test_batched_equals_one_by_one():
    kf = KalmanFilter()
    rng = np.random.default_rng(1)
    boxes = np.column_stack([rng.uniform(0, 500, 5), rng.uniform(0, 500, 5),
                             rng.uniform(0.3, 1.0, 5), rng.uniform(30, 200, 5)])
    means, covs = kf.predict(*kf.initiate(boxes), steps=1.5)
    z = boxes + rng.normal(0, 2, boxes.shape)
    batch_means, batch_covs = kf.update(means, covs, z)
    for i in range(5):
        m, c = kf.update(means[i:i + 1], covs[i:i + 1], z[i:i + 1])
        np.testing.assert_allclose(batch_means[i], m[0])
        np.testing.assert_allclose(batch_covs[i], c[0])


def test_gating_distance_hand_computed():
    kf = KalmanFilter()
    mean, cov = kf.initiate(MEASUREMENT)
    # Innovation covariance diag: 80, 80, 1e-4 + 1e-2, 80.
    offsets = np.array([[3 * np.sqrt(80), 0, 0, 0], [0, 3.1 * np.sqrt(80), 0, 0],
                        [0, 0, 0.1 * np.sqrt(0.0101), 0]])
    distance = kf.gating_distance(mean, cov, MEASUREMENT + offsets)
    np.testing.assert_allclose(distance, [[9.0, 9.61, 0.01]], rtol=1e-9)
    assert distance[0, 0] <= 9.4877 < distance[0, 1]


# xywh (BoT-SORT): centre (100, 50), width 40, height 80. u and w noise scale with the width
# (position std 40/20 = 2, initial 4; velocity std 40/160 = 0.25, initial 2.5), v and h with
# the height (as above).
MEASUREMENT_XYWH = np.array([[100.0, 50.0, 40.0, 80.0]])


def test_xywh_noise_scales_with_width_and_height():
    kf = KalmanFilter(box_state='xywh')
    mean, cov = kf.initiate(MEASUREMENT_XYWH)
    np.testing.assert_allclose(np.diag(cov[0]), [16, 64, 16, 64, 6.25, 25, 6.25, 25])
    predicted_mean, predicted_cov = kf.predict(mean, cov)
    # P_uu = 16 + 6.25 (velocity) + 4 (process noise (w/20)^2).
    assert predicted_cov[0, 0, 0] == pytest.approx(26.25)
    assert predicted_cov[0, 1, 1] == pytest.approx(64 + 25 + 16)
    _, projected = kf.project(predicted_mean, predicted_cov)
    assert projected[0, 0, 0] == pytest.approx(26.25 + 4)  # + R_uu = (w/20)^2
    assert projected[0, 2, 2] == pytest.approx(16 + 6.25 + 4 + 4)


def test_box_state_measure_and_boxes_round_trip():
    boxes = np.array([[80.0, 10.0, 120.0, 90.0], [0.0, 0.0, 10.0, 30.0]])
    for state, first in (('xyah', [100, 50, 0.5, 80]), ('xywh', [100, 50, 40, 80])):
        kf = KalmanFilter(box_state=state)
        np.testing.assert_allclose(kf.measure(boxes)[0], first)
        means, _ = kf.initiate(kf.measure(boxes))
        np.testing.assert_allclose(kf.boxes(means), boxes)
    with pytest.raises(ValueError, match='box_state'):
        KalmanFilter(box_state='xyxy')
