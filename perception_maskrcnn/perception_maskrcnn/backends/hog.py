"""Offline fallback: OpenCV's built-in HOG + linear SVM people detector (no weight files)."""
from __future__ import annotations

import logging
import time

import cv2
import numpy as np

from perception_ros_glue.detections import Detections
from .base import Detector, check_image, keep_index, resolve_class_ids

LOG = logging.getLogger(__name__)
FALLBACK_WARNING = ('USING THE OFFLINE FALLBACK DETECTOR (OpenCV HOG people detector): it finds only '
                    'upright people, misses many and gives no masks. Give Mask R-CNN or YOLO weights '
                    'for real detection (see perception_maskrcnn.backends.weights).')


def people_detector(cv):
    """OpenCV's HOG descriptor with its default people SVM, or a RuntimeError naming the cause."""
    if not hasattr(cv, 'HOGDescriptor'):
        # OpenCV 5 moved HOG out of the main modules into opencv_contrib (xobjdetect).
        raise RuntimeError(
            f'OpenCV {cv.__version__} has no HOG people detector (cv2.HOGDescriptor): OpenCV 5 moved '
            'it to the contrib module xobjdetect. Install opencv-contrib-python-headless of the same '
            'version instead of opencv-python-headless, or OpenCV 4.x as requirements.lock pins.')
    hog = cv.HOGDescriptor()
    hog.setSVMDetector(cv.HOGDescriptor_getDefaultPeopleDetector())
    return hog


class HogDetector(Detector):
    """OpenCV HOG people detector with OpenCV NMS (no torch: quick to start); class 'person' only, no masks."""

    name = 'hog'
    weights = 'opencv-builtin-people-svm'

    def __init__(self, device='auto', score_threshold=0.5, classes=None, max_detections=100,
                 max_side=640, win_stride=8, scale=1.05, nms_iou=0.4):
        """Set up the detector; ``max_side`` bounds the longer image side HOG runs on."""
        LOG.warning(FALLBACK_WARNING)
        self.class_names = ['person']
        self.device = 'cpu'  # OpenCV's CPU implementation whatever was asked
        self.score_threshold = float(score_threshold)
        self.class_filter = resolve_class_ids(classes, self.class_names)
        self.max_detections = int(max_detections)
        self.max_side = int(max_side)
        self.win_stride = (int(win_stride), int(win_stride))
        self.scale = float(scale)
        self.nms_iou = float(nms_iou)
        self.hog = people_detector(cv2)

    def detect(self, image_rgb: np.ndarray) -> Detections:
        """Detect people in one HxWx3 uint8 RGB image."""
        check_image(image_rgb)
        start = time.perf_counter()
        # HOG cost grows with pixels x scales: run on a downscaled frame and scale boxes back.
        factor = min(1.0, self.max_side / max(image_rgb.shape[:2]))
        gray = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2GRAY)
        if factor < 1.0:
            gray = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        inferred = time.perf_counter()
        window_w, window_h = self.hog.winSize
        if gray.shape[0] < window_h or gray.shape[1] < window_w:
            # Nobody fits: and OpenCV's detectMultiScale crashes the process (SIGSEGV) on an
            # image smaller than its window.
            rects, margins = (), ()
        else:
            rects, margins = self.hog.detectMultiScale(gray, winStride=self.win_stride,
                                                       padding=(8, 8), scale=self.scale)
        post = time.perf_counter()
        rects = np.asarray(rects, np.float32).reshape(-1, 4)
        boxes = np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], axis=1) / factor
        # SVM margin -> (0, 1): 0.5 is the SVM's own decision boundary (margin 0).
        scores = 1.0 / (1.0 + np.exp(-np.asarray(margins, np.float32).reshape(-1)))
        if len(boxes):
            kept = np.asarray(cv2.dnn.NMSBoxes(rects.tolist(), scores.tolist(), 0.0, self.nms_iou),
                              np.int64).reshape(-1)
            boxes, scores = boxes[kept], scores[kept]
        class_ids = np.zeros(len(boxes), np.int64)
        keep = keep_index(scores, class_ids, self.score_threshold, self.class_filter, self.max_detections)
        done = time.perf_counter()
        timings = {'preprocess': inferred - start, 'inference': post - inferred, 'postprocess': done - post}
        return Detections(boxes[keep], scores[keep], class_ids[keep], self.class_names, timings=timings)
