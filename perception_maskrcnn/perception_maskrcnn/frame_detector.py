"""The per-frame detection engine: one detector built from one configuration, run frame by frame.

``detector_node`` and every offline route (``perception-process-bag``, the demo, the
benchmarks) build their detector from the node's parameters here, so one parameter file
means the same model, thresholds, runtime and CPU threads everywhere. No ROS: images are
HxWx3 uint8 RGB arrays, results ``Detections``.
"""
from __future__ import annotations

import collections
import sys
import time

import cv2
import numpy as np

from perception_maskrcnn.backends import choose_backend, create_detector
from perception_ros_glue.detections import Detections
from perception_ros_glue.node_params import ParamSpec

#: The detector's parameters (detector_node declares them; tools read them from the same file).
MODEL_PARAMETERS = (
    ParamSpec('backend', 'auto', "Detector backend: 'maskrcnn', 'maskrcnn_v2', 'yolo', 'hog' "
              "(offline fallback, no weights) or 'auto' (given or locally found weights, else "
              "hog)."),
    ParamSpec('weights', '', 'Weights: local .pth/.pt file, torchvision or ultralytics name; '
              "empty = the backend's default. Ultralytics .pt files are pickles: trusted files "
              "only."),
    ParamSpec('device', 'auto', "Inference device: 'auto', 'cpu', 'cuda' or 'cuda:N'."),
    ParamSpec('runtime', 'auto', "YOLO inference runtime: 'torch', 'onnx' (ONNX Runtime), "
              "'openvino', 'tensorrt' (CUDA) or 'auto' (fastest installed for the device: "
              'tensorrt on CUDA, openvino on the CPU). Non-torch runtimes export the weights on '
              'first use and cache the export beside them. Other backends ignore it.'),
    ParamSpec('precision', 'auto', "YOLO precision: 'fp32', 'fp16' (CUDA), 'int8' (runtime "
              "openvino or tensorrt: post-training quantization, ~2x faster than fp32 on the CPU, "
              "boxes close to but not identical with fp32) or 'auto' (fp16 on CUDA, else fp32)."),
    ParamSpec('int8_calibration', '', 'Folder of images (camera frames) that calibrate precision '
              "int8; empty = the two street photos shipped with ultralytics."),
    ParamSpec('score_threshold', 0.5, 'Minimum detection score in [0, 1].'),
    ParamSpec('classes', [], 'Class names to keep (e.g. [car, truck]); empty = all classes.'),
    ParamSpec('max_detections', 100, 'Keep at most this many detections per image (best first).'),
    ParamSpec('input_size', 0, 'Model input size: short side for Mask R-CNN, imgsz for YOLO; '
              "0 = the backend's default."),
    ParamSpec('allow_random_init', False, 'Mask R-CNN without weights gets random weights '
              '(plumbing tests only: its detections are meaningless).'),
    ParamSpec('inference_threads', 0, 'CPU threads of inference (torch, OpenCV, OpenVINO); 0 = '
              "the libraries' default (every core). Fewer leave cores to the tracker, DDS and the "
              'callbacks: the tracker keeps its share of a small machine, inference is slower.'),
    ParamSpec('warmup', True, 'Run one inference on a blank frame when the detector is built, so '
              'that the first camera frame does not pay the first-call costs (allocation, JIT, '
              'export).'),
)
WARMUP_SHAPE = (480, 640, 3)


def resolve(params: dict) -> tuple[str, object, str]:
    """(backend, weights, note) of these parameters, ``auto`` resolved without loading anything."""
    if params['backend'] == 'auto':
        return choose_backend(params['weights'] or None)
    return params['backend'], params['weights'] or None, ''


def limit_inference_threads(threads: int) -> None:
    """Cap the CPU threads of OpenCV and (when a backend loaded it) torch; 0 leaves the defaults."""
    if threads <= 0:
        return
    cv2.setNumThreads(threads)
    if 'torch' in sys.modules:  # the HOG fallback never imports torch: don't load it for this
        sys.modules['torch'].set_num_threads(threads)


class FrameDetector:
    """The configured detector, its thread limit and warm-up, and its counters."""

    def __init__(self, params: dict):
        """Build from the detector's parameters (``MODEL_PARAMETERS`` names; others ignored);
        WeightsError/ValueError on a bad configuration."""
        # Resolve first so that backend-specific options go only to the backend that takes them.
        backend, weights, note = resolve(params)
        options = {}
        if backend.startswith('maskrcnn'):
            options['allow_random_init'] = params['allow_random_init']
            if params['input_size']:
                options['min_size'] = params['input_size']
        elif backend == 'yolo':
            options.update(runtime=params['runtime'], precision=params['precision'],
                           int8_calibration=params['int8_calibration'] or None,
                           threads=params['inference_threads'])
            if params['input_size']:
                options['imgsz'] = params['input_size']
        self.detector = create_detector(backend, weights, params['device'],
                                        params['score_threshold'],
                                        [c for c in params['classes'] if c] or None,
                                        params['max_detections'], **options)
        self.detector.selection_note = note or self.detector.selection_note
        self.threads = params['inference_threads']
        limit_inference_threads(self.threads)
        self.counts = collections.Counter(processed=0, failed=0)
        self.inference_s = 0.0
        if params['warmup']:
            self.detector.detect(np.zeros(WARMUP_SHAPE, np.uint8))

    def describe(self) -> str:
        """One line: backend, weights, runtime, device (and the thread limit)."""
        text = self.detector.describe()
        return text + (f', {self.threads} inference thread(s)' if self.threads > 0 else '')

    def detect(self, image: np.ndarray) -> Detections:
        """Detections of one RGB frame; a model failure is counted and raised."""
        start = time.perf_counter()
        try:
            detections = self.detector.detect(image)
        except Exception:
            self.counts['failed'] += 1
            raise
        self.inference_s += time.perf_counter() - start
        self.counts['processed'] += 1
        return detections

    def mean_inference_ms(self) -> float:
        """Mean inference time of the frames processed so far."""
        done = self.counts['processed']
        return 1000.0 * self.inference_s / done if done else 0.0
