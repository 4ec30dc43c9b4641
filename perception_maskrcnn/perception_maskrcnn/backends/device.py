"""Device selection: ``auto | cpu | cuda | cuda:N`` to a ``torch.device``."""
import torch


def resolve_device(device: str = 'auto') -> torch.device:
    """Turn a device string into a torch.device; ``auto`` means CUDA when available."""
    name = (device or 'auto').strip().lower()
    if name == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    if name != 'cpu' and not name.startswith('cuda'):
        raise ValueError(f"unknown device {device!r}: expected 'auto', 'cpu', 'cuda' or 'cuda:N'")
    resolved = torch.device(name)
    if resolved.type == 'cuda':
        if not torch.cuda.is_available():
            raise ValueError(f'device {device!r} requested but CUDA is not available '
                             f"(torch {torch.__version__}); use 'cpu' or 'auto'")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(f'device {device!r} requested but only '
                             f'{torch.cuda.device_count()} CUDA device(s) exist')
    return resolved


def synchronize(device: torch.device) -> None:
    """Wait for queued CUDA work so stage timings measure the work, not its launch."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
