"""Camera-motion compensation on a synthetic shaking/panning camera; motion worked out ahead
(prepare_motion / precompute_motion) gives the same tracks as update()."""

import cv2
import numpy as np

from perception_deepsort.camera_motion import CameraMotionEstimator, warp_states
from perception_deepsort.config import TrackerConfig
from perception_deepsort.kalman_filter import KalmanFilter
from perception_deepsort.deep_sort import DeepSort

WIDTH, HEIGHT = 640, 480


def world(seed=0):
    """A large textured background (the world the camera looks at)."""
    noise = np.random.default_rng(seed).integers(0, 255, (250, 350, 3), dtype=np.uint8)
    return cv2.resize(cv2.GaussianBlur(noise, (3, 3), 0), (1400, 1000),
                      interpolation=cv2.INTER_CUBIC)


def test_estimate_recovers_a_translation():
    background = world()
    estimator = CameraMotionEstimator(width=320)
    assert estimator.estimate(background[100:580, 100:740]) is None  # first frame
    affine = estimator.estimate(background[110:590, 80:720])  # camera moved +20 x, +10 y
    np.testing.assert_allclose(affine[:, :2], np.eye(2), atol=0.01)
    np.testing.assert_allclose(affine[:, 2], [20, -10], atol=1.0)


def test_warp_states_moves_means_and_rotates_covariances():
    kf = KalmanFilter()
    means, covs = kf.initiate(np.array([[100.0, 50.0, 0.5, 80.0]]))
    means[0, 4:6] = [3.0, 0.0]
    affine = np.array([[0, -2.0, 10], [2.0, 0, 20]])  # scale 2, rotate 90 degrees, translate
    warped_means, warped_covs = warp_states(means, covs, affine)
    np.testing.assert_allclose(warped_means[0], [-90, 220, 0.5, 160, 0, 6, 0, 0], atol=1e-9)
    assert warped_covs[0, 3, 3] == covs[0, 3, 3] * 4
    np.testing.assert_allclose(warped_covs[0, :2, :2], 4 * covs[0, :2, :2][::-1, ::-1])
    # xywh: the width scales like the height.
    kf = KalmanFilter(box_state='xywh')
    means, covs = kf.initiate(np.array([[100.0, 50.0, 40.0, 80.0]]))
    warped_means, warped_covs = warp_states(means, covs, affine, 'xywh')
    np.testing.assert_allclose(warped_means[0, :4], [-90, 220, 80, 160], atol=1e-9)
    assert warped_covs[0, 2, 2] == covs[0, 2, 2] * 4


def shaking_sequence(frames=40, seed=1):
    """Frames of a shaking camera over four static objects; yields (image, boxes)."""
    rng = np.random.default_rng(seed)
    background = world(seed)
    objects = np.array([[550, 400], [700, 450], [850, 400], [950, 600]], dtype=float)
    colours = rng.integers(0, 255, (len(objects), 3))
    camera = np.array([350.0, 250.0])
    for f in range(frames):
        # Alternating jumps of 20-30 px: no constant velocity a filter could learn.
        camera += (-1) ** f * rng.uniform([20, 5], [30, 12]) + [2, 0]
        x0, y0 = np.round(camera).astype(int)
        image = background[y0:y0 + HEIGHT, x0:x0 + WIDTH].copy()
        boxes = np.column_stack([objects - camera - [20, 40], objects - camera + [20, 40]])
        for (x1, y1, x2, y2), colour in zip(np.round(boxes).astype(int), colours):
            cv2.rectangle(image, (x1, y1), (x2, y2), colour.tolist(), -1)
        yield image, boxes


def ids_per_object(camera_motion):
    """Distinct track ids each object received once its track could be confirmed."""
    looks = np.eye(4, 16)
    tracker = DeepSort(TrackerConfig(camera_motion=camera_motion))
    seen = [set() for _ in range(4)]
    for f, (image, boxes) in enumerate(shaking_sequence()):
        outputs = tracker.update(boxes, np.full(4, 0.9), np.zeros(4, int), timestamp=f / 30,
                                 image=image, embeddings=looks)
        if f >= 5:
            for o in outputs:
                if o.detection_index >= 0:
                    seen[o.detection_index].add(o.track_id)
    return seen, tracker.stats


def test_camera_motion_compensation_keeps_ids_where_plain_prediction_fails():
    plain, _ = ids_per_object(camera_motion=False)
    assert all(len(ids) > 1 for ids in plain)
    compensated, stats = ids_per_object(camera_motion=True)
    assert all(len(ids) == 1 for ids in compensated)
    assert stats['camera_motion_failures'] == 0 and stats['rejected_outside'] == 0


def test_camera_motion_is_a_no_op_without_images():
    tracker = DeepSort(TrackerConfig())
    boxes = np.array([[100.0, 100, 140, 180]])
    for f in range(5):
        outputs = tracker.update(boxes, [0.9], [0], timestamp=f / 30)
    assert outputs[0].hits == 5 and np.allclose(outputs[0].box, boxes[0])


def test_long_run_with_rotating_warps_keeps_covariances_symmetric():
    """Regression: tiny rotations from every warp must not snowball through the updates."""
    from perception_deepsort.detection import DetectionBatch
    from perception_deepsort.tracker import Tracker

    tracker = Tracker(TrackerConfig(use_appearance=False))
    rng = np.random.default_rng(0)
    angle = 3e-4
    affine = np.array([[np.cos(angle), -np.sin(angle), 0.1], [np.sin(angle), np.cos(angle), -0.1]])
    affine[:, :2] *= 1.0002
    centres = np.array([[100.0, 200.0], [300.0, 220.0], [500.0, 240.0]])
    for frame in range(300):
        tracker.predict()
        tracker.apply_camera_motion(affine)
        visible = rng.random(3) > 0.2
        seen = centres[visible] + rng.normal(0, 1.0, (visible.sum(), 2))
        boxes = np.hstack([seen - [20, 40], seen + [20, 40]])
        tracker.update(DetectionBatch(boxes, np.ones(len(boxes)), np.zeros(len(boxes), int),
                                      np.arange(len(boxes))), now=frame / 30)
    covs = tracker.tracks.covs
    assert np.abs(covs - covs.transpose(0, 2, 1)).max() < 1e-6
    assert len(tracker.tracks) == 3 and tracker._next_id == 4


def outputs_key(outputs):
    """Everything a frame's outputs say, exactly."""
    return [(o.track_id, o.state, o.detection_index, o.hits, o.box.tobytes(), o.velocity)
            for o in outputs]


def run_in_update(frames):
    """The reference: every tracked image handed to update()."""
    tracker = DeepSort(TrackerConfig(use_appearance=False))
    return [outputs_key(tracker.update(boxes, np.full(len(boxes), 0.9), np.zeros(len(boxes), int),
                                       timestamp=f / 30, image=image))
            for f, (image, boxes) in frames], tracker.stats


def run_ahead(frames, images_between):
    """As a node does it: every image prepared on arrival, motion precomputed between frames
    (to the right image, or to a wrong guess), update() given the prepared frame."""
    tracker = DeepSort(TrackerConfig(use_appearance=False))
    results = []
    for k, (f, (image, boxes)) in enumerate(frames):
        motion = tracker.prepare_motion(image)
        extra = images_between[k] if k < len(images_between) else None
        if extra is not None:  # an image the detector skipped: a wrong guess at the next frame
            tracker.precompute_motion(tracker.prepare_motion(extra))
        if k % 3 != 2:
            tracker.precompute_motion(motion)  # the right guess (every third frame: none)
        results.append(outputs_key(tracker.update(
            boxes, np.full(len(boxes), 0.9), np.zeros(len(boxes), int), timestamp=f / 30,
            image=image, motion_frame=motion)))
        tracker.precompute_motion()  # idle time after publishing: corners of this frame
    return results, tracker.stats


def test_motion_worked_out_ahead_gives_identical_tracks():
    sequence = list(shaking_sequence(frames=30))
    frames = [(f, sequence[f]) for f in range(0, 30, 2)]  # the detector took every other frame
    skipped = [sequence[f][0] for f in range(1, 30, 2)]
    reference, stats = run_in_update(frames)
    ahead, ahead_stats = run_ahead(frames, skipped)
    assert ahead == reference
    assert ahead_stats == stats and stats['camera_motion_failures'] == 0
    assert any(o[0] for o in reference[-1])


def test_a_reset_discards_motion_worked_out_against_the_forgotten_frame():
    sequence = list(shaking_sequence(frames=3))
    tracker = DeepSort(TrackerConfig(use_appearance=False))
    image, boxes = sequence[0]
    tracker.update(boxes, np.full(4, 0.9), np.zeros(4, int), timestamp=1.0, image=image)
    motion = tracker.prepare_motion(sequence[1][0])
    tracker.precompute_motion(motion)
    assert motion.affine is not None
    tracker.reset()
    assert tracker.camera.motion_to(motion) is None  # no previous frame any more


def test_without_camera_motion_images_and_motion_calls_change_nothing():
    def key(tracker, f, image, boxes):
        return outputs_key(tracker.update(boxes, np.full(4, 0.9), np.zeros(4, int), timestamp=f / 30,
                                          image=image))

    off = DeepSort(TrackerConfig(camera_motion=False, use_appearance=False))
    blind, on = (DeepSort(TrackerConfig(camera_motion=c, use_appearance=False)) for c in (False, True))
    differs = False
    for f, (image, boxes) in enumerate(shaking_sequence(frames=12)):
        assert off.prepare_motion(image) is None
        off.precompute_motion(None)
        result = key(off, f, image, boxes)
        assert result == key(blind, f, None, boxes)  # as if no image had been given
        differs |= result != key(on, f, image, boxes)
    assert off.camera is None and off.stats['camera_motion_failures'] == 0
    assert differs, 'with compensation on, this shaking camera changes the tracks'
