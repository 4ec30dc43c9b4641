"""ultralytics YOLO (YOLOv5u first, any detection or segmentation checkpoint) as a backend.

ultralytics ``.pt`` files are Python pickles loaded with ``weights_only=False``: loading one can
execute code, so only give files from sources you trust. The pinned people checkpoint
(``person_checkpoint``) is loaded only with its pinned SHA-256, and its classes map to
``person``. ``runtime`` runs the checkpoint in PyTorch or exported (``yolo_runtime``).
ultralytics never installs packages here (its AutoInstall is switched off).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from perception_ros_glue.detections import Detections, mask_window

from . import person_checkpoint
from .base import Detector, check_image, keep_index, resolve_class_ids
from .device import resolve_device
from .weights import WeightsError, existing_file, home_weights_dir, is_ultralytics_file
from .yolo_runtime import (choose_precision, choose_runtime, exported_model,
                           openvino_at_export_precision)

DEFAULT_WEIGHTS = 'yolov5su.pt'
RELEASES_URL = 'https://github.com/ultralytics/assets/releases'
MASK_THRESHOLD = 0.5


def import_ultralytics():
    """The ultralytics package with its run-time pip installs switched off (YOLO_AUTOINSTALL)."""
    os.environ['YOLO_AUTOINSTALL'] = 'false'  # read when ultralytics is first imported
    import ultralytics  # imported here: ultralytics is slow to import and optional
    import ultralytics.utils.checks
    ultralytics.utils.checks.AUTOINSTALL = False  # in case it was imported before
    return ultralytics


def _load_model(weights: str):
    """(ultralytics YOLO model, its file, the file's SHA-256) from a local path or a release name.

    WeightsError when missing, not ultralytics, corrupt, or named as the pinned checkpoint
    without its hash.
    """
    YOLO = import_ultralytics().YOLO

    path = Path(weights).expanduser()
    is_name = not path.is_file() and path.parent == Path('.') and path.suffix == '.pt'
    if not is_name:
        path = existing_file(path, 'an ultralytics detection or segmentation .pt')
        # Before unpickling: a file named as the pinned checkpoint must have its hash.
        digest = person_checkpoint.sha256_of(path)
        person_checkpoint.check(path, digest)
        if not is_ultralytics_file(path):
            raise WeightsError(f'{path}: not an ultralytics checkpoint (a torchvision or '
                               f'perception-train-maskrcnn file? use backend maskrcnn or auto)')
    try:
        model = YOLO(str(path) if not is_name else weights)
    except Exception as error:
        if is_name:
            raise WeightsError(
                f'could not get {weights!r}: ultralytics downloads release names from {RELEASES_URL} '
                f'and that failed ({type(error).__name__}: {error}). Download {weights} on a machine '
                f'with internet and pass its path, or put it in {home_weights_dir()}') from error
        raise WeightsError(f'{path}: ultralytics could not load it, it may be corrupt or from an '
                           f'incompatible version ({type(error).__name__}: {error})') from error
    if is_name:  # downloaded by ultralytics
        path = Path(model.ckpt_path).resolve()
        digest = person_checkpoint.sha256_of(path)
    return model, path, digest


def output_classes(model_names: list[str], aliases: dict) -> tuple[list[str], np.ndarray]:
    """Class names after ``aliases`` (model name -> output name) and each model class's output id."""
    renamed = [aliases.get(n, n) for n in model_names]
    names = list(dict.fromkeys(renamed))
    return names, np.array([names.index(n) for n in renamed], np.int64)


class YoloDetector(Detector):
    """ultralytics detection/segmentation model; masks when the model segments."""

    name = 'yolo'

    def __init__(self, weights=None, device='auto', score_threshold=0.5, classes=None,
                 max_detections=100, iou=0.7, imgsz=640, precision='auto', warmup=True,
                 runtime='torch', int8_calibration=None, threads=0):
        """Load the model (``weights`` path or release name, default ``yolov5su.pt``).

        ``runtime``: torch | onnx | openvino | tensorrt | auto (see ``yolo_runtime``); the
        non-torch ones run an export cached beside the weights. ``precision``: auto (fp16 on
        CUDA, else fp32) | fp32 | fp16 | int8 (openvino, tensorrt; calibrated on the images in
        the folder ``int8_calibration``, default ultralytics' sample photos). ``threads``: CPU
        threads of OpenVINO inference (0 = its default, every core).
        """
        self.weights = str(weights or DEFAULT_WEIGHTS)
        model, path, self.weights_sha256 = _load_model(self.weights)
        if model.task not in ('detect', 'segment'):
            raise WeightsError(f'{self.weights}: is a {model.task!r} model; expected detect or segment')
        self.task = model.task
        names = model.names
        aliases = (person_checkpoint.CLASS_ALIASES
                   if self.weights_sha256 == person_checkpoint.SHA256 else {})
        self.class_names, self._output_id = output_classes([names[i] for i in range(len(names))],
                                                           aliases)
        self.class_filter = resolve_class_ids(classes, self.class_names)
        self.score_threshold = float(score_threshold)
        self.max_detections = int(max_detections)
        self._device = resolve_device(device)
        self.device = str(self._device)
        self.runtime = choose_runtime(runtime, self._device.type)
        self.precision = choose_precision(precision, self.runtime, self._device.type)
        if self.runtime != 'torch':
            exported = exported_model(path, self.weights_sha256, int(imgsz), self.precision,
                                      self.runtime, self.device, int8_calibration)
            model = import_ultralytics().YOLO(str(exported), task=self.task)
        self.model = model
        model_filter = (None if self.class_filter is None else
                        np.flatnonzero(np.isin(self._output_id, self.class_filter)).tolist())
        self.predict_options = dict(conf=self.score_threshold, iou=float(iou), imgsz=int(imgsz),
                                    max_det=self.max_detections, device=self.device,
                                    # ultralytics' fp16 switch
                                    quantize=16 if self.precision == 'fp16' else None,
                                    classes=model_filter,
                                    # Classes merged into one (aliases) are suppressed together.
                                    agnostic_nms=len(self.class_names) < len(names),
                                    retina_masks=True,  # masks at the original image size
                                    verbose=False)
        # Warm-up on CUDA; an export always gets one predict: it builds ultralytics' backend.
        for _ in range(2 if warmup and self._device.type == 'cuda' else int(self.runtime != 'torch')):
            self.detect(np.zeros((imgsz, imgsz, 3), np.uint8))
        if self.runtime == 'openvino':
            openvino_at_export_precision(self.model, exported, self.precision, threads)

    def detect(self, image_rgb: np.ndarray) -> Detections:
        """Detect objects in one HxWx3 uint8 RGB image."""
        check_image(image_rgb)
        # ultralytics treats numpy input as BGR.
        result = self.model.predict(np.ascontiguousarray(image_rgb[..., ::-1]), **self.predict_options)[0]
        start = time.perf_counter()
        boxes = result.boxes.xyxy.float().cpu().numpy()
        scores = result.boxes.conf.float().cpu().numpy()
        class_ids = self._output_id[result.boxes.cls.cpu().numpy().astype(np.int64)]
        keep = keep_index(scores, class_ids, self.score_threshold, self.class_filter, self.max_detections)
        boxes = boxes[keep]
        masks = origins = None
        if result.masks is not None:
            masks, origins = [], np.zeros((len(keep), 2), np.int32)
            for row, index in enumerate(keep):
                x0, y0, x_end, y_end = mask_window(boxes[row], image_rgb.shape)
                masks.append((result.masks.data[index, y0:y_end, x0:x_end] > MASK_THRESHOLD).cpu().numpy())
                origins[row] = (x0, y0)
        elif self.task == 'segment':
            masks, origins = [], np.zeros((0, 2), np.int32)
        # ultralytics measures its own stages (ms); our cropping adds to postprocess.
        speed = result.speed
        timings = {'preprocess': speed['preprocess'] / 1e3, 'inference': speed['inference'] / 1e3,
                   'postprocess': speed['postprocess'] / 1e3 + time.perf_counter() - start}
        return Detections(boxes, scores[keep], class_ids[keep], self.class_names, masks, origins, timings)
