"""ultralytics YOLO (YOLOv5u first, any detection or segmentation checkpoint) as a backend.

ultralytics ``.pt`` files are Python pickles loaded with ``weights_only=False``: loading one can
execute code, so only give files from sources you trust.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from perception_ros_glue.detections import Detections, mask_window
from .base import Detector, check_image, keep_index, resolve_class_ids
from .device import resolve_device
from .weights import WeightsError, existing_file, is_ultralytics_file, local_weight_dirs

DEFAULT_WEIGHTS = 'yolov5su.pt'
RELEASES_URL = 'https://github.com/ultralytics/assets/releases'
MASK_THRESHOLD = 0.5


def _load_model(weights: str):
    """An ultralytics YOLO model from a local path or a release name, else a WeightsError."""
    from ultralytics import YOLO  # imported here: ultralytics is slow to import and optional

    path = Path(weights).expanduser()
    is_name = not path.is_file() and path.parent == Path('.') and path.suffix == '.pt'
    if not is_name:
        path = existing_file(path, 'an ultralytics detection or segmentation .pt')
        if not is_ultralytics_file(path):
            raise WeightsError(f'{path}: not an ultralytics checkpoint (a torchvision or '
                               f'perception-train-maskrcnn file? use backend maskrcnn or auto)')
    try:
        return YOLO(str(path) if not is_name else weights)
    except Exception as error:
        if is_name:
            raise WeightsError(
                f'could not get {weights!r}: ultralytics downloads release names from {RELEASES_URL} '
                f'and that failed ({type(error).__name__}: {error}). Download {weights} on a machine '
                f'with internet and pass its path, or put it in {local_weight_dirs()[-1]}') from error
        raise WeightsError(f'{path}: ultralytics could not load it, it may be corrupt or from an '
                           f'incompatible version ({type(error).__name__}: {error})') from error


class YoloDetector(Detector):
    """ultralytics detection/segmentation model; masks when the model segments."""

    name = 'yolo'

    def __init__(self, weights=None, device='auto', score_threshold=0.5, classes=None,
                 max_detections=100, iou=0.7, imgsz=640, half=True, warmup=True):
        """Load the model (``weights`` path or release name, default ``yolov5su.pt``)."""
        self.weights = str(weights or DEFAULT_WEIGHTS)
        self.model = _load_model(self.weights)
        if self.model.task not in ('detect', 'segment'):
            raise WeightsError(f'{self.weights}: is a {self.model.task!r} model; expected detect or segment')
        names = self.model.names
        self.class_names = [names[i] for i in range(len(names))]
        self.class_filter = resolve_class_ids(classes, self.class_names)
        self.score_threshold = float(score_threshold)
        self.max_detections = int(max_detections)
        self._device = resolve_device(device)
        self.device = str(self._device)
        self.half = bool(half) and self._device.type == 'cuda'
        self.precision = 'fp16' if self.half else 'fp32'
        self.predict_options = dict(conf=self.score_threshold, iou=float(iou), imgsz=int(imgsz),
                                    max_det=self.max_detections, device=self.device,
                                    quantize=16 if self.half else None,  # ultralytics' fp16 switch
                                    classes=None if self.class_filter is None else self.class_filter.tolist(),
                                    retina_masks=True,  # masks at the original image size
                                    verbose=False)
        if warmup and self._device.type == 'cuda':
            for _ in range(2):
                self.detect(np.zeros((imgsz, imgsz, 3), np.uint8))

    def detect(self, image_rgb: np.ndarray) -> Detections:
        """Detect objects in one HxWx3 uint8 RGB image."""
        check_image(image_rgb)
        # ultralytics treats numpy input as BGR.
        result = self.model.predict(np.ascontiguousarray(image_rgb[..., ::-1]), **self.predict_options)[0]
        start = time.perf_counter()
        boxes = result.boxes.xyxy.float().cpu().numpy()
        scores = result.boxes.conf.float().cpu().numpy()
        class_ids = result.boxes.cls.cpu().numpy().astype(np.int64)
        keep = keep_index(scores, class_ids, self.score_threshold, self.class_filter, self.max_detections)
        boxes = boxes[keep]
        masks = origins = None
        if result.masks is not None:
            masks, origins = [], np.zeros((len(keep), 2), np.int32)
            for row, index in enumerate(keep):
                x0, y0, x_end, y_end = mask_window(boxes[row], image_rgb.shape)
                masks.append((result.masks.data[index, y0:y_end, x0:x_end] > MASK_THRESHOLD).cpu().numpy())
                origins[row] = (x0, y0)
        elif self.model.task == 'segment':
            masks, origins = [], np.zeros((0, 2), np.int32)
        # ultralytics measures its own stages (ms); our cropping adds to postprocess.
        speed = result.speed
        timings = {'preprocess': speed['preprocess'] / 1e3, 'inference': speed['inference'] / 1e3,
                   'postprocess': speed['postprocess'] / 1e3 + time.perf_counter() - start}
        return Detections(boxes, scores[keep], class_ids[keep], self.class_names, masks, origins, timings)

