"""``Detections`` <-> ``vision_msgs/Detection2DArray`` + ``perception_msgs/InstanceMaskArray``."""
from __future__ import annotations

import array

import numpy as np
from perception_msgs.msg import InstanceMask, InstanceMaskArray
from vision_msgs.msg import (BoundingBox2D, Detection2D, Detection2DArray, ObjectHypothesis,
                             ObjectHypothesisWithPose, Point2D, Pose2D)

from perception_ros_glue.detections import Detections, InstanceMasks


def stamp_to_ns(stamp) -> int:
    """``builtin_interfaces/Time`` as integer nanoseconds (exact, for matching)."""
    return stamp.sec * 1_000_000_000 + stamp.nanosec


def box_to_bbox(box) -> BoundingBox2D:
    """Axis-aligned ``BoundingBox2D`` (centre, size in px, theta 0) of an xyxy box."""
    x1, y1, x2, y2 = (float(v) for v in box)
    # Keyword construction: rosidl builds no default sub-messages that would be replaced anyway.
    centre = Pose2D(position=Point2D(x=(x1 + x2) / 2.0, y=(y1 + y2) / 2.0), theta=0.0)
    return BoundingBox2D(center=centre, size_x=x2 - x1, size_y=y2 - y1)


def bbox_to_box(bbox: BoundingBox2D) -> np.ndarray:
    """xyxy box of a ``BoundingBox2D`` (rotation ignored: boxes here are axis aligned)."""
    cx, cy = bbox.center.position.x, bbox.center.position.y
    hw, hh = bbox.size_x / 2.0, bbox.size_y / 2.0
    return np.array([cx - hw, cy - hh, cx + hw, cy + hh], dtype=np.float64)


def make_detection(header, box, class_name: str, score: float,
                   detection_id: str = '') -> Detection2D:
    """One ``Detection2D`` with a single hypothesis (class name, score)."""
    hypothesis = ObjectHypothesisWithPose(
        hypothesis=ObjectHypothesis(class_id=class_name, score=float(score)))
    return Detection2D(header=header, id=detection_id, bbox=box_to_bbox(box), results=[hypothesis])


def mask_to_msg(window: np.ndarray | None, origin) -> InstanceMask:
    """``InstanceMask`` (0/255 bytes) of a bool box window at ``origin``; None -> width 0."""
    msg = InstanceMask()
    if window is None or window.size == 0:
        return msg
    msg.x_offset, msg.y_offset = int(origin[0]), int(origin[1])
    msg.height, msg.width = window.shape
    data = array.array('B')
    data.frombytes(np.ascontiguousarray(window, dtype=bool).view(np.uint8).reshape(-1)
                   * np.uint8(255))
    msg.data = data
    return msg


def msg_to_mask(msg: InstanceMask) -> tuple[np.ndarray, np.ndarray] | None:
    """``(bool window, origin (x0, y0))`` of an ``InstanceMask``; None when it carries no mask."""
    if msg.width == 0 or msg.height == 0:
        return None
    if len(msg.data) != msg.width * msg.height:
        raise ValueError(f'mask of {msg.width}x{msg.height} has {len(msg.data)} bytes')
    window = np.frombuffer(msg.data, dtype=np.uint8).reshape(msg.height, msg.width) > 127
    return window, np.array([msg.x_offset, msg.y_offset], dtype=np.int32)


def detections_to_msgs(detections: Detections, header, image_width: int,
                       image_height: int) -> tuple[Detection2DArray, InstanceMaskArray]:
    """Messages for ``detections`` of one image; both carry ``header`` (the input image's)."""
    det_array = Detection2DArray(header=header)
    labels = detections.labels()
    det_array.detections = [make_detection(header, box, label, score)
                            for box, label, score in zip(detections.boxes, labels,
                                                         detections.scores)]
    masks = InstanceMaskArray(header=header, image_width=int(image_width),
                              image_height=int(image_height))
    if detections.masks is None:
        masks.masks = [InstanceMask() for _ in range(len(detections))]
    else:
        masks.masks = [mask_to_msg(w, o) for w, o in zip(detections.masks, detections.mask_origins)]
    return det_array, masks


def _best_hypothesis(det: Detection2D) -> tuple[str, float]:
    """Class name and score of the highest-scoring result; ``('', nan)`` when there is none."""
    if not det.results:
        return '', float('nan')
    best = max(det.results, key=lambda r: r.hypothesis.score)
    return best.hypothesis.class_id, best.hypothesis.score


def detections_from_msg(det_array: Detection2DArray, class_names=()) -> Detections:
    """``Detections`` (no masks) of a message; class ids index ``class_names`` extended by
    unseen names. Passing the returned ``class_names`` back on the next call keeps ids stable
    over a stream."""
    names = list(class_names)
    index = {name: i for i, name in enumerate(names)}
    boxes = np.zeros((len(det_array.detections), 4), dtype=np.float64)
    scores = np.zeros(len(det_array.detections), dtype=np.float64)
    class_ids = np.zeros(len(det_array.detections), dtype=np.int64)
    for i, det in enumerate(det_array.detections):
        name, scores[i] = _best_hypothesis(det)
        if name not in index:
            index[name] = len(names)
            names.append(name)
        class_ids[i] = index[name]
        boxes[i] = bbox_to_box(det.bbox)
    return Detections(boxes, scores, class_ids, names)


def masks_from_msg(masks: InstanceMaskArray) -> InstanceMasks:
    """``InstanceMasks`` of a message; ValueError when a mask's data does not fit its size."""
    empty = (np.zeros((0, 0), dtype=bool), np.zeros(2, dtype=np.int32))
    decoded = [msg_to_mask(m) or empty for m in masks.masks]
    size = (masks.image_width, masks.image_height) if masks.image_width else None
    return InstanceMasks([w for w, _ in decoded],
                         np.array([o for _, o in decoded], dtype=np.int32).reshape(-1, 2), size)


def msgs_to_detections(det_array: Detection2DArray, masks: InstanceMaskArray | None = None,
                       class_names=()) -> Detections:
    """``Detections`` of the messages (``detections_from_msg`` with ``masks_from_msg``).

    Raises ``ValueError`` when the mask array does not match the detections.
    """
    detections = detections_from_msg(det_array, class_names)
    return detections if masks is None else detections.with_masks(masks_from_msg(masks))
