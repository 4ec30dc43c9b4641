"""Camera motion worked out ahead (prepare_motion / precompute_motion): same tracks as update()."""
import cv2
import numpy as np

from perception_deepsort.config import TrackerConfig
from perception_deepsort.pipeline import DeepSort

WIDTH, HEIGHT = 640, 480


def shaking_sequence(frames, seed=1):
    """(image, boxes) of a shaking camera over four static painted objects."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 255, (250, 350, 3), dtype=np.uint8)
    background = cv2.resize(cv2.GaussianBlur(noise, (3, 3), 0), (1400, 1000),
                            interpolation=cv2.INTER_CUBIC)
    objects = np.array([[550, 400], [700, 450], [850, 400], [950, 600]], dtype=float)
    camera = np.array([350.0, 250.0])
    for f in range(frames):
        camera += (-1) ** f * rng.uniform([20, 5], [30, 12]) + [2, 0]
        x0, y0 = np.round(camera).astype(int)
        image = background[y0:y0 + HEIGHT, x0:x0 + WIDTH].copy()
        boxes = np.column_stack([objects - camera - [20, 40], objects - camera + [20, 40]])
        for x1, y1, x2, y2 in np.round(boxes).astype(int):
            cv2.rectangle(image, (x1, y1), (x2, y2), (200, 30, 30), -1)
        yield image, boxes


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


def test_prepare_motion_is_none_without_camera_motion():
    tracker = DeepSort(TrackerConfig(camera_motion=False))
    assert tracker.prepare_motion(np.zeros((10, 10, 3), np.uint8)) is None
    tracker.precompute_motion(None)  # a no-op
