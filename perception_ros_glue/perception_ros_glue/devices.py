"""Compute-device names ``auto | cpu | cuda | cuda:N`` checked against the CUDA devices present.

No torch import here: the detector backends and the re-ID embedders each pass
``torch.cuda.device_count()`` and build ``torch.device(device_name(...))`` themselves.
"""
import re

_CUDA = re.compile(r'cuda(?::(\d+))?')


def device_name(device, cuda_devices: int) -> str:
    """``'cpu'`` or ``'cuda[:N]'`` for ``device`` (``auto`` = CUDA when present); ValueError
    naming the device when it is unknown or not on this machine."""
    name = str(device or 'auto').strip().lower()
    if name == 'auto':
        return 'cuda' if cuda_devices > 0 else 'cpu'
    if name == 'cpu':
        return name
    match = _CUDA.fullmatch(name)
    if match is None:
        raise ValueError(f"unknown device {device!r}: expected 'auto', 'cpu', 'cuda' or 'cuda:N'")
    if cuda_devices == 0:
        raise ValueError(f"device {device!r} requested but CUDA is not available; use 'cpu' or "
                         "'auto'")
    if match.group(1) is not None and int(match.group(1)) >= cuda_devices:
        raise ValueError(f'device {device!r} requested but only {cuda_devices} CUDA device(s) '
                         'exist')
    return name
