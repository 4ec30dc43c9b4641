"""Finding, identifying and safely loading weight files, with errors that say how to fix them.

Formats understood:
- torchvision state dicts (``*.pth`` as downloaded into ``~/.cache/torch/hub/checkpoints``),
- checkpoints of ``perception-train-maskrcnn`` (``{'state_dict': ..., 'config': {...}}``, the
  re-ID checkpoints' layout; ``'model'`` instead of ``'state_dict'`` in older ones),
- ultralytics checkpoints (``*.pt``). These are Python pickles that ultralytics loads with
  ``weights_only=False``: loading one can run arbitrary code, so give only files you trust.
Torch files are opened with ``torch.load(..., weights_only=True)``.
"""
from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path


WEIGHTS_DIR_ENV = 'PERCEPTION_WEIGHTS_DIR'


class WeightsError(RuntimeError):
    """Weights missing, of the wrong architecture or corrupt; the message says which file and why."""


def hub_checkpoints() -> Path:
    """torch's hub cache of downloaded weights (torch imported here: the HOG path never needs it)."""
    import torch
    return Path(torch.hub.get_dir()) / 'checkpoints'


def ros_weights_dir() -> Path:
    """The weights folder under the ROS home (``$ROS_HOME``, else ``~/.ros``): where a ROS
    install keeps fetched weights, found whatever folder a node is launched from."""
    return Path(os.environ.get('ROS_HOME') or '~/.ros').expanduser() / 'perception' / 'weights'


def home_weights_dir() -> Path:
    """Where fetched weights go: ``$PERCEPTION_WEIGHTS_DIR`` (scripts/env.sh sets the
    repository's ``weights/``), else ``ros_weights_dir()``."""
    configured = os.environ.get(WEIGHTS_DIR_ENV)
    return Path(configured).expanduser() if configured else ros_weights_dir()


def local_weight_dirs() -> list[Path]:
    """Where weights are looked for when none are given, in order of preference."""
    dirs = [Path(os.environ[WEIGHTS_DIR_ENV]).expanduser()] if os.environ.get(WEIGHTS_DIR_ENV) else []
    return dirs + [ros_weights_dir(), hub_checkpoints(), Path.cwd() / 'weights']


def find_local_weights() -> Path | None:
    """First weight file in the documented places, or None.

    ``$PERCEPTION_WEIGHTS_DIR/*.pt|*.pth``, then ``$ROS_HOME/perception/weights`` (``~/.ros``
    without ROS_HOME), then torch's hub cache ``maskrcnn_resnet50_fpn*.pth``, then
    ``./weights/*.pt|*.pth``.
    """
    for directory in local_weight_dirs():
        is_hub = directory == hub_checkpoints()
        # The hub cache also holds unrelated models (backbones, other tasks): only Mask R-CNN.
        patterns = ['maskrcnn_resnet50_fpn*.pth'] if is_hub else ['*.pt', '*.pth']
        for pattern in patterns:
            found = sorted(directory.glob(pattern))
            if found:
                return found[0]
    return None


def existing_file(path, expected: str) -> Path:
    """``path`` as an existing file, else a WeightsError naming it and what was expected."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise WeightsError(f'weights file not found: {path} (expected {expected}). Check the path, '
                           f'or put the file in one of: {", ".join(map(str, local_weight_dirs()))}')
    return path


def _pickle_bytes(path: Path) -> bytes | None:
    """The pickled structure of a zip-format torch file (keys and class names, no tensors)."""
    try:
        with zipfile.ZipFile(path) as archive:
            name = next((n for n in archive.namelist() if n.endswith('/data.pkl')), None)
            return archive.read(name) if name else None
    except (zipfile.BadZipFile, OSError):
        return None


def is_ultralytics_file(path: Path) -> bool:
    """True when the file pickles ultralytics classes (checked without unpickling)."""
    data = _pickle_bytes(path)
    return data is not None and b'ultralytics' in data


def sniff_torch_file(path: Path) -> str:
    """Backend that fits a weight file: ``yolo``, ``maskrcnn`` or ``maskrcnn_v2``."""
    if is_ultralytics_file(path):
        return 'yolo'
    data = _pickle_bytes(path)
    if data is None:  # legacy (non-zip) torch file: look inside properly
        state = state_dict_of(load_torch_file(path, 'a Mask R-CNN state dict or checkpoint'), path)
        data = ' '.join(state).encode()
    if b'roi_heads.box_head.fc6' in data:
        return 'maskrcnn'
    if b'roi_heads.box_head.0' in data:
        return 'maskrcnn_v2'
    raise WeightsError(f'{path}: not a recognised weights file (expected an ultralytics .pt, a '
                       f'torchvision Mask R-CNN state dict or a perception-train-maskrcnn checkpoint)')


def load_torch_file(path: Path, expected: str):
    """``torch.load(weights_only=True)`` on CPU, with corrupt or unsafe files as WeightsError."""
    import torch
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as error:
        raise WeightsError(f'{path}: holds Python objects that weights_only loading refuses '
                           f'(expected {expected}): {str(error).splitlines()[0]}') from error
    except Exception as error:  # torch raises many types for truncated/garbage files
        raise WeightsError(f'{path}: cannot be read as a torch file, it may be corrupt or '
                           f'truncated (expected {expected}): {error}') from error


#: Where a training checkpoint keeps its weights: 'state_dict', or 'model' in older ones.
CHECKPOINT_KEYS = ('state_dict', 'model')


def checkpoint_weights_key(obj) -> str | None:
    """The key of the weights when ``obj`` is a training checkpoint; None for anything else."""
    if isinstance(obj, dict):
        return next((k for k in CHECKPOINT_KEYS if isinstance(obj.get(k), dict)), None)
    return None


def state_dict_of(obj, path: Path) -> dict:
    """The model state dict inside a loaded file (plain state dict or training checkpoint)."""
    import torch
    key = checkpoint_weights_key(obj)
    if key is not None:
        obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsError(f'{path}: not a state dict of tensors nor a training checkpoint')
    return obj


def hub_file(weights_enum) -> Path:
    """Local copy of a torchvision weights enum's file, downloading it into torch's hub cache."""
    import torch
    url = weights_enum.url
    target = hub_checkpoints() / os.path.basename(url)
    if target.is_file():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        match = torch.hub.HASH_REGEX.search(target.name)  # torchvision names end in -<sha256 prefix>
        torch.hub.download_url_to_file(url, str(target), match.group(1) if match else None)
    except Exception as error:
        raise WeightsError(
            f'could not download {weights_enum} from {url} ({type(error).__name__}: {error}). '
            f'On a machine with internet run `curl -L -o {os.path.basename(url)} {url}` and copy '
            f'the file to {target} (or pass its path as weights)') from error
    return target
