"""Camera-motion compensation on a synthetic shaking/panning camera, through the frame engine
(frames the detector skipped included)."""

import cv2
import numpy as np

from perception_deepsort.camera_motion import CameraMotionEstimator, warp_states
from perception_deepsort.config import TrackerConfig
from perception_deepsort.frame_tracker import TRACKS, FrameTracker, track_offline
from perception_deepsort.kalman_filter import KalmanFilter
from perception_ros_glue.detections import Detections

WIDTH, HEIGHT = 640, 480


def world(seed=0):
    """A large textured background (the world the camera looks at)."""
    noise = np.random.default_rng(seed).integers(0, 255, (250, 350, 3), dtype=np.uint8)
    return cv2.resize(cv2.GaussianBlur(noise, (3, 3), 0), (1400, 1000),
                      interpolation=cv2.INTER_CUBIC)


def test_estimate_recovers_a_translation():
    background = world()
    estimator = CameraMotionEstimator(width=320)
    before, after = (estimator.prepare(background[y:y + 480, x:x + 640])
                     for x, y in ((100, 100), (80, 110)))  # camera moved +20 x, +10 y
    affine = estimator.motion(before, after)
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


def run(config, frames=40, every=1, images=True):
    """Per frame: {object index: (track id, box)} of the tracks matched to it (detections on every
    ``every``-th frame; one appearance vector per object), and the engine."""
    looks = np.eye(4, 16, dtype=np.float32)
    tracker = FrameTracker(config)
    tracker.expect_masks = False

    def recording():
        for f, (image, boxes) in enumerate(shaking_sequence(frames)):
            dets = (Detections(boxes, np.full(4, 0.9), np.zeros(4, int), ['object'])
                    if f % every == 0 else None)
            yield (round(f / 30 * 1e9), 'cam', image if images else None, dets, None,
                   looks if dets is not None else None)
    matched = []
    for _, outputs in track_offline(tracker, recording()):
        [output] = [o for o in outputs if o.kind == TRACKS]
        matched.append({o.detection_index: (o.track_id, o.box.tobytes()) for o in output.tracks
                        if o.detection_index >= 0})
    return matched, tracker


def ids_per_object(matched):
    """Distinct track ids each object received once its track could be confirmed."""
    seen = [set() for _ in range(4)]
    for frame in matched[5:]:
        for index, (track_id, _) in frame.items():
            seen[index].add(track_id)
    return seen


def test_camera_motion_compensation_keeps_ids_where_plain_prediction_fails():
    plain, _ = run(TrackerConfig(camera_motion=False))
    assert all(len(ids) > 1 for ids in ids_per_object(plain))
    compensated, engine = run(TrackerConfig(camera_motion=True))
    assert all(len(ids) == 1 for ids in ids_per_object(compensated))
    counts = engine.all_counts()
    assert counts['camera_motion_failures'] == 0 and counts['rejected_outside'] == 0


def test_camera_motion_through_frames_the_detector_skipped():
    # Detections on every third frame: the motion of the skipped frames is compensated too.
    config = TrackerConfig(camera_motion=True, box_flow=False)
    matched, _ = run(config, every=3)
    assert all(len(ids) == 1 for ids in ids_per_object(matched))
    plain, _ = run(TrackerConfig(camera_motion=False, box_flow=False), every=3)
    assert any(len(ids) > 1 for ids in ids_per_object(plain))


def test_camera_motion_is_a_no_op_without_images():
    matched, engine = run(TrackerConfig(), frames=5, images=False)
    assert engine.all_counts()['camera_motion_failures'] == 0
    assert all(len(frame) == 4 for frame in matched)


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


def test_without_camera_motion_and_box_flow_images_change_nothing():
    config = TrackerConfig(camera_motion=False, box_flow=False, use_appearance=False)
    with_images, _ = run(config, frames=12, every=2)
    without, _ = run(config, frames=12, every=2, images=False)
    assert with_images == without
    moving, _ = run(TrackerConfig(camera_motion=True, box_flow=False, use_appearance=False),
                    frames=12, every=2)
    assert moving != with_images, 'with compensation on, this shaking camera changes the tracks'
