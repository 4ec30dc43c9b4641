"""Save and load descriptor-network checkpoints (state dict + the config needed to rebuild it).

A checkpoint is ``torch.save({'state_dict', 'config', 'epoch', 'optimizer', ...})`` where
``config`` is a plain dict: ``arch`` ('reidnet'), ``input_size`` [H, W], ``feature_dim``,
``num_classes``, ``mean`` and ``std`` (RGB, 0-1 scale), ``width`` (channels of the first layer; 32
when absent, the paper's). Loading uses ``weights_only=True``.
"""

import os
import pickle

CHECKPOINT_FORMAT = (
    "a perception-train-reid checkpoint: torch.save({'state_dict': ..., 'config': {'arch': 'reidnet', "
    "'input_size': [128, 64], 'feature_dim': 128, 'num_classes': N, 'mean': [...], 'std': [...]}, ...})"
)
ARCH = 'reidnet'
PAPER_WIDTH = 32
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ReidWeightsError(RuntimeError):
    """A re-ID weights file is missing, unreadable or holds something other than expected."""


def load_failure_reason(exc):
    """Return a one-line reason for a failed ``torch.load`` (torch's own messages run for pages)."""
    if isinstance(exc, pickle.UnpicklingError):
        return 'not a torch file that loads with weights_only=True (corrupt, truncated or holds pickled code)'
    lines = str(exc).strip().splitlines()
    return f'{type(exc).__name__}: {lines[0][:200] if lines else "unreadable"}'


def default_config(num_classes, feature_dim=128, input_size=(128, 64), width=PAPER_WIDTH):
    """Return the config dict stored with a freshly initialised descriptor network."""
    return {
        'arch': ARCH,
        'input_size': list(input_size),
        'width': int(width),
        'feature_dim': int(feature_dim),
        'num_classes': int(num_classes),
        'mean': list(IMAGENET_MEAN),
        'std': list(IMAGENET_STD),
    }


def save_checkpoint(path, model, config, epoch, optimizer=None, **extra):
    """Write a checkpoint atomically (a crash mid-write never destroys the previous file)."""
    import torch  # here, so that importing the embedders for 'histogram'/'none' stays torch-free

    payload = {
        'state_dict': model.state_dict(),
        'config': dict(config),
        'epoch': int(epoch),
        'optimizer': optimizer.state_dict() if optimizer is not None else None,
        **extra,
    }
    tmp = f'{path}.tmp'
    torch.save(payload, tmp)
    os.replace(tmp, path)


def load_checkpoint(path, map_location='cpu'):
    """Read and validate a checkpoint; raise ReidWeightsError naming the path otherwise."""
    import torch

    path = str(path)
    if not os.path.isfile(path):
        raise ReidWeightsError(f're-ID checkpoint not found: {path} (expected {CHECKPOINT_FORMAT})')
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several unrelated types for corrupt files
        reason = load_failure_reason(exc)
        raise ReidWeightsError(f'cannot read re-ID checkpoint {path}: {reason} (expected {CHECKPOINT_FORMAT})') from exc
    if not isinstance(checkpoint, dict) or 'state_dict' not in checkpoint or 'config' not in checkpoint:
        raise ReidWeightsError(f'{path} is not {CHECKPOINT_FORMAT}')
    arch = checkpoint['config'].get('arch')
    if arch != ARCH:
        raise ReidWeightsError(f'{path} holds architecture {arch!r}, expected {ARCH!r}: {CHECKPOINT_FORMAT}')
    return checkpoint


def build_training_model(config):
    """Instantiate the descriptor network + classifier described by a checkpoint config."""
    from perception_deepsort.reid.model import ReidTrainingModel

    return ReidTrainingModel(config['num_classes'], config['feature_dim'], tuple(config['input_size']),
                             config.get('width', PAPER_WIDTH))


def load_descriptor(path, map_location='cpu'):
    """Return (ReidNet in eval mode, config) from a checkpoint file, validating the weights."""
    checkpoint = load_checkpoint(path, map_location)
    config = checkpoint['config']
    model = build_training_model(config)
    try:
        model.load_state_dict(checkpoint['state_dict'])
    except (RuntimeError, KeyError, TypeError) as exc:
        raise ReidWeightsError(f'{path}: weights do not fit the stored config {config}: {exc}') from exc
    return model.net.eval(), config
