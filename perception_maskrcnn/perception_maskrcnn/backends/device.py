"""Device selection: ``auto | cpu | cuda | cuda:N`` to a ``torch.device``."""
import torch

from perception_ros_glue.devices import device_name


def resolve_device(device: str = 'auto') -> torch.device:
    """Turn a device string into a torch.device; ``auto`` means CUDA when available."""
    return torch.device(device_name(device, torch.cuda.device_count()))


def synchronize(device: torch.device) -> None:
    """Wait for queued CUDA work so stage timings measure the work, not its launch."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
