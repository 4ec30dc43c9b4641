"""The backend interface and the filtering every backend shares."""
from __future__ import annotations

import abc

import numpy as np

from perception_ros_glue.detections import Detections


class Detector(abc.ABC):
    """A loaded model: ``detect(image_rgb) -> Detections`` plus what it is and where it runs."""

    name: str = ''
    class_names: list[str] = []
    device: str = 'cpu'
    weights: str = 'none'
    precision: str = 'fp32'
    # Inference runtime where a backend has several (yolo: torch, onnx, openvino, tensorrt).
    runtime: str = ''
    # Why this backend was chosen (set by the 'auto' backend), shown by describe().
    selection_note: str = ''

    @abc.abstractmethod
    def detect(self, image_rgb: np.ndarray) -> Detections:
        """Detect objects in one HxWx3 uint8 RGB image."""

    def describe(self) -> str:
        """One line: backend, weights, device, precision (and why 'auto' chose it)."""
        text = (f'backend={self.name} weights={self.weights} device={self.device} '
                f'precision={self.precision}' + (f' runtime={self.runtime}' if self.runtime else ''))
        return f'{text} ({self.selection_note})' if self.selection_note else text


def check_image(image) -> np.ndarray:
    """Validate the library's image contract (HxWx3 uint8 RGB) with a clear error."""
    if not isinstance(image, np.ndarray):
        raise TypeError(f'image must be a numpy array, got {type(image).__name__}')
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f'image must be HxWx3 uint8 RGB, got shape {image.shape} dtype {image.dtype}')
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f'image is empty: shape {image.shape}')
    return image


def resolve_class_ids(classes, class_names) -> np.ndarray | None:
    """Class-name filter to the matching class ids; None keeps every class."""
    if not classes:
        return None
    wanted = [str(c) for c in classes]
    unknown = [c for c in wanted if c not in class_names]
    if unknown:
        known = [n for n in class_names if n not in ('__background__', 'N/A')]
        raise ValueError(f'unknown class name(s) {unknown}; this model knows: {known}')
    return np.array([i for i, n in enumerate(class_names) if n in wanted], dtype=np.int64)


def keep_index(scores, class_ids, score_threshold, class_filter, max_detections) -> np.ndarray:
    """Indices that pass score threshold and class filter, best first, at most max_detections."""
    keep = np.asarray(scores) >= score_threshold
    if class_filter is not None:
        keep &= np.isin(class_ids, class_filter)
    index = np.flatnonzero(keep)
    index = index[np.argsort(-np.asarray(scores)[index], kind='stable')]
    return index[:max_detections]
