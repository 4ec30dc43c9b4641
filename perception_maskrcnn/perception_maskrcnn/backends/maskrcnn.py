"""torchvision Mask R-CNN (ResNet-50 FPN, v1 and v2) as a detector backend."""
from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import torch
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection import (MaskRCNN_ResNet50_FPN_V2_Weights, MaskRCNN_ResNet50_FPN_Weights,
                                          maskrcnn_resnet50_fpn, maskrcnn_resnet50_fpn_v2)

from perception_ros_glue.detections import Detections, mask_window
from .base import Detector, check_image, keep_index, resolve_class_ids
from .device import resolve_device, synchronize
from .maskrcnn_lite import ARCH as LITE_ARCH, build_lite
from .weights import (WeightsError, checkpoint_weights_key, existing_file, hub_file, load_torch_file,
                      state_dict_of)

LOG = logging.getLogger(__name__)

# backend name -> (builder, torchvision weights enum, architecture name stored in checkpoints)
ARCHITECTURES = {
    'maskrcnn': (maskrcnn_resnet50_fpn, MaskRCNN_ResNet50_FPN_Weights, 'maskrcnn_resnet50_fpn'),
    'maskrcnn_v2': (maskrcnn_resnet50_fpn_v2, MaskRCNN_ResNet50_FPN_V2_Weights, 'maskrcnn_resnet50_fpn_v2'),
}
COCO_CLASS_NAMES = list(MaskRCNN_ResNet50_FPN_Weights.COCO_V1.meta['categories'])
MASK_THRESHOLD = 0.5


def build_maskrcnn(backend: str, num_classes: int, **model_options) -> torch.nn.Module:
    """An untrained torchvision Mask R-CNN of the given backend name (no weight download, ever)."""
    builder = ARCHITECTURES[backend][0]
    return builder(weights=None, weights_backbone=None, num_classes=num_classes, **model_options)


def build_from_config(config: dict, **overrides) -> torch.nn.Module:
    """The untrained model a training config describes (paper model or lite), ``overrides`` on top.

    ``config['anchor_sizes']`` (one per FPN level) and ``config['aspect_ratios']`` set the anchors;
    ``config['model']`` holds torchvision ``MaskRCNN`` options (sizes, RPN and RoI-head settings).
    """
    options = {**config.get('model', {}), **overrides}
    if config.get('anchor_sizes'):
        sizes = tuple((int(s),) for s in config['anchor_sizes'])
        ratios = tuple(float(r) for r in config['aspect_ratios'])
        options['rpn_anchor_generator'] = AnchorGenerator(sizes, (ratios,) * len(sizes))
    if config['arch'] == LITE_ARCH:
        return build_lite(config['num_classes'], config['lite'], **options)
    return build_maskrcnn(backend_of_arch(config['arch']), config['num_classes'], **options)


def backend_of_arch(arch: str) -> str:
    """Backend name for an architecture name stored in a checkpoint config."""
    for backend, (_, _, name) in ARCHITECTURES.items():
        if name == arch:
            return backend
    raise KeyError(arch)


def _named_weights(backend: str, name: str):
    """A torchvision weights enum member from 'COCO_V1', 'DEFAULT' or its full name, else None."""
    enum = ARCHITECTURES[backend][1]
    prefix, _, short = name.rpartition('.')
    return enum.__members__.get(short) if prefix in ('', enum.__name__) else None


def load_weights(backend: str, weights, allow_random_init: bool):
    """Resolve ``weights`` to ``(state_dict | None, class_names, checkpoint config, label)``."""
    if weights is None:
        if not allow_random_init:
            raise WeightsError(
                f"no weights given for {backend}: pass weights='DEFAULT' (torchvision COCO weights, "
                f'downloaded into {Path(torch.hub.get_dir()) / "checkpoints"}), a local .pth state dict '
                f'or a perception-train-maskrcnn checkpoint')
        return None, COCO_CLASS_NAMES, {}, 'random-init'
    named = _named_weights(backend, str(weights)) if not Path(str(weights)).expanduser().is_file() else None
    if named is not None:
        path = hub_file(named)
        return state_dict_of(load_torch_file(path, str(named)), path), list(named.meta['categories']), {}, str(named)
    arch = ARCHITECTURES[backend][2]
    expected = f'a {arch} state dict or a perception-train-maskrcnn checkpoint'
    if not Path(str(weights)).suffix and '/' not in str(weights):
        names = list(ARCHITECTURES[backend][1].__members__)
        raise WeightsError(f'{weights!r} is neither a file nor a torchvision weights name for {backend} '
                           f'(known names: {names}; expected {expected})')
    path = existing_file(weights, expected)
    loaded = load_torch_file(path, expected)
    state = state_dict_of(loaded, path)
    config = loaded.get('config', {}) if checkpoint_weights_key(loaded) else {}
    if config:
        # The lite model has v1-style heads: the maskrcnn backend runs it.
        if config.get('arch') != arch and not (backend == 'maskrcnn' and config.get('arch') == LITE_ARCH):
            raise WeightsError(f'{path}: checkpoint is for {config.get("arch")}, but backend {backend} '
                               f'expects {arch}; use the matching backend or auto')
        return state, list(config['class_names']), config, str(path)
    return state, _state_dict_class_names(state, path, expected), {}, str(path)


def _state_dict_class_names(state: dict, path: Path, expected: str) -> list[str]:
    """Class names of a plain state dict: COCO's for 91 classes, else numbered placeholders."""
    weight = state.get('roi_heads.box_predictor.cls_score.weight')
    if weight is None:
        raise WeightsError(f'{path}: has no Mask R-CNN box predictor (expected {expected})')
    if weight.shape[0] == len(COCO_CLASS_NAMES):
        return COCO_CLASS_NAMES
    LOG.warning('%s: %d classes and no class names in the file; using class_1..class_%d',
                path, weight.shape[0], weight.shape[0] - 1)
    return ['__background__'] + [f'class_{i}' for i in range(1, weight.shape[0])]


class MaskRCNNDetector(Detector):
    """torchvision Mask R-CNN: boxes, classes, scores and box-cropped instance masks."""

    def __init__(self, backend='maskrcnn', weights=None, device='auto', score_threshold=0.5,
                 classes=None, max_detections=100, allow_random_init=False, half=True,
                 min_size=None, max_size=None, warmup=True):
        """Load weights (see ``load_weights``) and put the model on its device in eval mode."""
        state, self.class_names, config, self.weights = load_weights(backend, weights, allow_random_init)
        self.name = backend
        self.score_threshold = float(score_threshold)
        self.max_detections = int(max_detections)
        self.class_filter = resolve_class_ids(classes, self.class_names)
        self._device = resolve_device(device)
        self.device = str(self._device)
        # A training checkpoint brings its model settings (image sizes, anchors, ...); explicit
        # sizes override them.
        sizes = {k: v for k, v in (('min_size', min_size), ('max_size', max_size)) if v}
        config = config or {'arch': ARCHITECTURES[backend][2], 'num_classes': len(self.class_names)}
        # The model drops low scores and extra detections itself so masks are only computed for
        # survivors; the class filter runs afterwards, so then keep room for other classes.
        per_image = self.max_detections if self.class_filter is None else max(self.max_detections, 100)
        model = build_from_config(config, box_score_thresh=self.score_threshold,
                                  box_detections_per_img=per_image, **sizes)
        if state is not None:
            try:
                model.load_state_dict(state)
            except RuntimeError as error:
                raise WeightsError(f'{self.weights}: does not fit {config["arch"]} with '
                                   f'{len(self.class_names)} classes (wrong architecture or backend?): '
                                   f'{_first_lines(error)}') from error
        self.model = model.eval().to(self._device)
        self.half = bool(half) and self._device.type == 'cuda'
        self.precision = 'fp16-autocast' if self.half else 'fp32'
        if warmup and self._device.type == 'cuda':
            side = self.model.transform.min_size[0]
            dummy = np.zeros((side, side * 4 // 3, 3), np.uint8)
            for _ in range(2):
                self.detect(dummy)

    def detect(self, image_rgb: np.ndarray) -> Detections:
        """Detect instances in one HxWx3 uint8 RGB image."""
        check_image(image_rgb)
        start = time.perf_counter()
        with torch.inference_mode():
            # Upload uint8 (4x fewer bytes) and convert on the device. A read-only view on a
            # message buffer is copied once: torch tensors cannot be read-only.
            pixels = np.ascontiguousarray(image_rgb)
            if not pixels.flags.writeable:
                pixels = pixels.copy()
            tensor = torch.from_numpy(pixels).to(self._device)
            tensor = tensor.permute(2, 0, 1).float().div_(255.0)
            synchronize(self._device)
            inferred = time.perf_counter()
            with torch.autocast(self._device.type, dtype=torch.float16, enabled=self.half):
                output = self.model([tensor])[0]
            synchronize(self._device)
            post = time.perf_counter()
            scores = output['scores'].float().cpu().numpy()
            class_ids = output['labels'].cpu().numpy()
            keep = keep_index(scores, class_ids, self.score_threshold, self.class_filter, self.max_detections)
            boxes = output['boxes'].float().cpu().numpy()[keep]
            masks, origins = [], np.zeros((len(keep), 2), np.int32)
            for row, index in enumerate(keep):
                x0, y0, x_end, y_end = mask_window(boxes[row], image_rgb.shape)
                # Crop on the device: only the window travels to host memory.
                window = output['masks'][index, 0, y0:y_end, x0:x_end] > MASK_THRESHOLD
                masks.append(window.cpu().numpy())
                origins[row] = (x0, y0)
        done = time.perf_counter()
        timings = {'preprocess': inferred - start, 'inference': post - inferred, 'postprocess': done - post}
        return Detections(boxes, scores[keep], class_ids[keep], self.class_names, masks, origins, timings)


def _first_lines(error: Exception, count: int = 3) -> str:
    """The first lines of a long torch error (state-dict mismatches list every key)."""
    lines = str(error).strip().splitlines()
    text = ' '.join(line.strip() for line in lines[:count])
    return text[:600] + ('...' if len(text) > 600 or len(lines) > count else '')
