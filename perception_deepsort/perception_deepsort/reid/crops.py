"""Cut person crops out of a frame and resize them to a network's fixed input size."""

import cv2
import numpy as np


def clip_boxes(boxes_xyxy, width, height):
    """Round (N, 4) x1, y1, x2, y2 boxes outwards to whole pixels inside a width x height image."""
    # Non-finite coordinates become 0 here; crop_and_resize marks such boxes invalid.
    boxes = np.nan_to_num(np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4), nan=0.0, posinf=0.0, neginf=0.0)
    x1 = np.clip(np.floor(boxes[:, 0]), 0, width)
    y1 = np.clip(np.floor(boxes[:, 1]), 0, height)
    x2 = np.clip(np.ceil(boxes[:, 2]), 0, width)
    y2 = np.clip(np.ceil(boxes[:, 3]), 0, height)
    return np.stack([x1, y1, x2, y2], axis=1).astype(np.int64)


def crop_and_resize(image_rgb, boxes_xyxy, size_hw):
    """Return (crops (N, H, W, 3) uint8, valid (N,) bool) for boxes clipped to the image.

    Boxes with no pixel inside the image or a non-finite coordinate give an all-zero crop and
    ``valid = False`` so that callers can give them a zero embedding instead of a meaningless one.
    """
    height, width = size_hw
    finite = np.isfinite(np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4)).all(axis=1)
    boxes = clip_boxes(boxes_xyxy, image_rgb.shape[1], image_rgb.shape[0])
    crops = np.zeros((len(boxes), height, width, 3), dtype=np.uint8)
    valid = finite & (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    for i in np.flatnonzero(valid):
        x1, y1, x2, y2 = boxes[i]
        # INTER_AREA when shrinking avoids aliasing; on uint8 it is as fast as bilinear.
        crops[i] = cv2.resize(image_rgb[y1:y2, x1:x2], (width, height), interpolation=cv2.INTER_AREA)
    return crops, valid


def resize_crops(crops_rgb, size_hw):
    """Resize a list of HxWx3 uint8 crops to one (N, H, W, 3) uint8 batch; empty crops stay zero."""
    height, width = size_hw
    batch = np.zeros((len(crops_rgb), height, width, 3), dtype=np.uint8)
    valid = np.zeros(len(crops_rgb), dtype=bool)
    for i, crop in enumerate(crops_rgb):
        if crop.shape[0] > 0 and crop.shape[1] > 0:
            batch[i] = cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA)
            valid[i] = True
    return batch, valid
