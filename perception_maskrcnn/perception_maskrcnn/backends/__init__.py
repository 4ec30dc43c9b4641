"""Detector backends behind one interface: ``create_detector(backend, ...) -> Detector``.

Backends: ``maskrcnn`` / ``maskrcnn_v2`` (torchvision), ``yolo`` (ultralytics), ``hog`` (OpenCV,
offline fallback) and ``auto`` (the given or locally found weights decide; else ``hog``).
Weight files are found in ``$PERCEPTION_WEIGHTS_DIR`` (scripts/env.sh: the repository's
``weights/``), ``$ROS_HOME/perception/weights`` (``~/.ros/...``), torch's hub cache
(``~/.cache/torch/hub/checkpoints/maskrcnn_resnet50_fpn*.pth``) and ``./weights``.
"""
from __future__ import annotations

import logging
from pathlib import Path

from .base import Detector
from .weights import (WeightsError, existing_file, find_local_weights, local_weight_dirs,
                      sniff_torch_file)

LOG = logging.getLogger(__name__)
BACKENDS = ('maskrcnn', 'maskrcnn_v2', 'yolo', 'hog', 'auto')


def _create_maskrcnn(backend, weights, common, options):
    """Mask R-CNN v1/v2 (module imported lazily: torchvision detection is slow to import)."""
    from .maskrcnn import MaskRCNNDetector
    return MaskRCNNDetector(backend, weights, **common, **options)


def _create_yolo(backend, weights, common, options):
    """ultralytics YOLO."""
    from .yolo import YoloDetector
    return YoloDetector(weights, **common, **options)


def _create_hog(backend, weights, common, options):
    """OpenCV HOG people detector; takes no weights."""
    from .hog import HogDetector
    if weights is not None:
        raise ValueError(f'the hog backend takes no weights (got {weights!r})')
    return HogDetector(**common, **options)


_FACTORIES = {'maskrcnn': _create_maskrcnn, 'maskrcnn_v2': _create_maskrcnn,
              'yolo': _create_yolo, 'hog': _create_hog}


def _sniff(path: Path) -> str:
    """Backend of a weights file; the pinned people checkpoint's name with another hash is refused."""
    from . import person_checkpoint  # not at import: `python -m` runs that module as a script
    if path.name == person_checkpoint.FILE_NAME:
        person_checkpoint.check(path)
    return sniff_torch_file(path)


def choose_backend(weights) -> tuple[str, object, str]:
    """What ``auto`` runs: ``(backend, weights, reason)`` from the given or locally found weights."""
    if weights is not None:
        path = Path(str(weights)).expanduser()
        if not path.is_file() and path.parent == Path('.') and path.suffix == '.pt':
            return 'yolo', weights, f'auto: {weights} is an ultralytics release name'
        path = existing_file(path, 'an ultralytics .pt, a Mask R-CNN .pth or a training checkpoint')
        backend = _sniff(path)
        return backend, str(path), f'auto: {path.name} is a {backend} file'
    found = find_local_weights()
    if found is not None:
        backend = _sniff(found)
        return backend, str(found), f'auto: found {found}'
    looked = ', '.join(str(d) for d in local_weight_dirs())
    return 'hog', None, ('auto: no weights given or found locally (looked in: '
                         f'{looked}), using the offline fallback')


def create_detector(backend: str, weights=None, device: str = 'auto', score_threshold: float = 0.5,
                    classes=None, max_detections: int = 100, **options) -> Detector:
    """Build a detector; raises WeightsError for missing, wrong or corrupt weights.

    ``classes`` keeps only those class names; backend-specific ``options`` (e.g.
    ``allow_random_init``, ``min_size`` for Mask R-CNN, ``imgsz`` for YOLO) pass through.
    """
    if backend not in BACKENDS:
        raise ValueError(f'unknown backend {backend!r}; choose one of {", ".join(BACKENDS)}')
    note = ''
    if backend == 'auto':
        backend, weights, note = choose_backend(weights)
        LOG.info('%s -> backend %s', note, backend)
    common = dict(device=device, score_threshold=score_threshold, classes=classes,
                  max_detections=max_detections)
    detector = _FACTORIES[backend](backend, weights, common, options)
    detector.selection_note = note
    return detector


__all__ = ['BACKENDS', 'Detector', 'WeightsError', 'choose_backend', 'create_detector']
