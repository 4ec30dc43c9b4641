"""Detections <-> Detection2DArray + InstanceMaskArray round trips; drawing; the frame hand-off."""
import threading

import numpy as np
import pytest
from std_msgs.msg import Header
from vision_msgs.msg import ObjectHypothesis, ObjectHypothesisWithPose

from perception_ros_glue.detections import Detections, crop_mask
from perception_ros_glue.frame_queue import LatestFrames
from perception_ros_glue.ros_conversions import detections_to_msgs, msgs_to_detections, stamp_to_ns
from perception_ros_glue.ros_testing import stamp
from perception_ros_glue.visualization import color_for, draw_instances

NAMES = ['person', 'car', 'bicycle']


def sample(with_masks=True) -> Detections:
    """Two detections with circular masks in a 60x80 image."""
    boxes = np.array([[10.5, 5.25, 30.75, 40.0], [40, 20, 79, 59]], np.float32)
    yy, xx = np.mgrid[:60, :80]
    masks, origins = [], []
    for x1, y1, x2, y2 in boxes:
        full = (xx - (x1 + x2) / 2) ** 2 + (yy - (y1 + y2) / 2) ** 2 < 64
        window, origin = crop_mask(full, (x1, y1, x2, y2))
        masks.append(window)
        origins.append(origin)
    return Detections(boxes, [0.9, 0.6], [1, 0], NAMES, masks if with_masks else None,
                      np.array(origins) if with_masks else None)


def test_boxes_classes_scores_and_masks_round_trip():
    dets = sample()
    header = Header(stamp=stamp(5, 42), frame_id='cam')
    det_msg, mask_msg = detections_to_msgs(dets, header, 80, 60)
    assert det_msg.header == header == mask_msg.header
    assert (mask_msg.image_width, mask_msg.image_height) == (80, 60)
    first = det_msg.detections[0]
    assert first.header == header and first.bbox.center.theta == 0.0
    assert first.results[0].hypothesis.class_id == 'car'
    assert first.bbox.center.position.x == pytest.approx(20.625)
    assert first.bbox.size_y == pytest.approx(34.75)
    assert set(mask_msg.masks[0].data) == {0, 255}
    back = msgs_to_detections(det_msg, mask_msg)
    np.testing.assert_allclose(back.boxes, dets.boxes, atol=1e-4)
    np.testing.assert_allclose(back.scores, dets.scores, atol=1e-6)
    assert back.labels() == dets.labels()
    np.testing.assert_array_equal(back.mask_origins, dets.mask_origins)
    np.testing.assert_array_equal(back.full_masks((60, 80)), dets.full_masks((60, 80)))


def test_missing_masks_are_width_zero_and_come_back_as_none():
    det_msg, mask_msg = detections_to_msgs(sample(with_masks=False), Header(), 80, 60)
    assert [m.width for m in mask_msg.masks] == [0, 0]
    assert msgs_to_detections(det_msg, mask_msg).masks is None


def test_class_ids_stay_stable_across_messages():
    det_msg, _ = detections_to_msgs(sample(), Header(), 80, 60)
    first = msgs_to_detections(det_msg, class_names=['bicycle'])
    assert first.class_names == ['bicycle', 'car', 'person']
    again = msgs_to_detections(det_msg, class_names=first.class_names)
    assert again.class_names == first.class_names
    np.testing.assert_array_equal(again.class_ids, first.class_ids)


def test_mismatched_mask_count_is_an_error():
    det_msg, mask_msg = detections_to_msgs(sample(), Header(), 80, 60)
    mask_msg.masks = mask_msg.masks[:1]
    with pytest.raises(ValueError, match='1 masks for 2 detections'):
        msgs_to_detections(det_msg, mask_msg)


def test_colors_are_stable_and_distinct():
    assert color_for(3) == color_for(3) and color_for('car') == color_for('car')
    colors = {color_for(i) for i in range(20)}
    assert len(colors) == 20


def test_draw_instances_tints_masks_draws_boxes_and_trails_on_a_copy():
    dets = sample()
    image = np.full((60, 80, 3), 128, np.uint8)
    out = draw_instances(image, dets.boxes, ['car #1', ''], [(255, 0, 0), (0, 0, 255)],
                         dets.masks, dets.mask_origins, [[(0, 59), (20, 50), (40, 55)], None])
    assert (image == 128).all(), 'input untouched'
    cy, cx = 22, 20  # inside the first mask, away from box edges and label
    assert out[cy, cx, 0] > 128 and out[cy, cx, 2] < 128, 'mask tinted with its colour'
    assert (out[40, 40:79] != 128).any(), 'box edge drawn'
    assert (out[50:60, 0:40] != 128).any(), 'trail drawn'


def test_latest_frames_drops_the_oldest_and_wakes_on_close():
    frames = LatestFrames(2)
    assert [frames.put(i) for i in range(4)] == [False, False, True, True]
    assert frames.get(0) == 2 and frames.get(0) == 3 and frames.get(0.01) is None
    got = []
    worker = threading.Thread(target=lambda: got.append(frames.get()))
    worker.start()
    frames.close()
    worker.join(5)
    assert got == [None] and not worker.is_alive()


def test_stamp_to_ns_is_exact():
    assert stamp_to_ns(stamp(1_700_000_000, 999_999_999)) == 1_700_000_000_999_999_999


def test_the_best_of_several_hypotheses_gives_class_and_score():
    """A foreign detector (yolo_ros, Isaac ROS) may send several class hypotheses a detection:
    the highest score wins wherever it is in the list; no hypothesis is class '' with NaN."""
    det_msg, _ = detections_to_msgs(sample(with_masks=False), Header(), 80, 60)
    first, second = det_msg.detections
    extra = [('bicycle', 0.3), ('person', 0.95), ('car', 0.5)]
    first.results = [ObjectHypothesisWithPose(hypothesis=ObjectHypothesis(class_id=c, score=s))
                     for c, s in extra]
    second.results = []
    dets = msgs_to_detections(det_msg)
    assert dets.labels()[0] == 'person' and dets.scores[0] == pytest.approx(0.95)
    assert dets.labels()[1] == '' and np.isnan(dets.scores[1])
    assert dets.class_names == ['person', '']  # only the winners are classes of the stream
