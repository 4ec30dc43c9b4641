"""Inference runtimes for ultralytics YOLO: PyTorch, ONNX Runtime, OpenVINO, TensorRT.

A non-torch runtime runs the same checkpoint exported by ultralytics' own exporter on first
use. The export is cached beside the weights, keyed by the weights' SHA-256, the image size
and the precision (``<stem>.<sha12>-<imgsz>-<precision>.onnx``, ``..._openvino_model/``,
``....engine``), written to a temporary name and renamed when complete, and reused after.
ultralytics runs pre/post-processing (letterbox, NMS) identically for every runtime. ONNX and
OpenVINO exports have dynamic input shapes, so they get the same minimal (rectangular)
letterbox as PyTorch, not a square one; TensorRT engines are static (imgsz x imgsz).

``auto`` is the fastest runtime installed for the device: TensorRT on CUDA (else PyTorch
fp16), OpenVINO on the CPU (else ONNX Runtime, else PyTorch).
"""
from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from .weights import WeightsError

LOG = logging.getLogger(__name__)
RUNTIMES = ('auto', 'torch', 'onnx', 'openvino', 'tensorrt')
# ultralytics' format name, the Python packages each runtime needs (export and inference), and
# what AutoBackend recognises the exported model by.
FORMATS = {'onnx': 'onnx', 'openvino': 'openvino', 'tensorrt': 'engine'}
PACKAGES = {'onnx': ('onnxruntime', 'onnx', 'onnxslim'), 'openvino': ('openvino',),
            'tensorrt': ('tensorrt', 'onnx')}
SUFFIXES = {'onnx': '.onnx', 'openvino': '_openvino_model', 'tensorrt': '.engine'}
DYNAMIC = {'onnx': True, 'openvino': True, 'tensorrt': False}
CPU_PREFERENCE = ('openvino', 'onnx', 'torch')
CUDA_PREFERENCE = ('tensorrt', 'torch')


class RuntimeUnavailable(RuntimeError):
    """The runtime asked for cannot run here; the message names the missing package or device."""


def missing_packages(runtime: str) -> list[str]:
    """Python packages the runtime needs that are not installed (importable)."""
    return [p for p in PACKAGES.get(runtime, ()) if importlib.util.find_spec(p) is None]


def choose_runtime(runtime: str, device_type: str) -> str:
    """The runtime to use: checked (``RuntimeUnavailable`` naming the cause) or ``auto``'s pick."""
    name = (runtime or 'auto').strip().lower()
    if name not in RUNTIMES:
        raise ValueError(f'unknown runtime {runtime!r}; choose one of {", ".join(RUNTIMES)}')
    if name == 'auto':
        preference = CUDA_PREFERENCE if device_type == 'cuda' else CPU_PREFERENCE
        return next(r for r in preference if not missing_packages(r))
    missing = missing_packages(name)
    if missing:
        raise RuntimeUnavailable(
            f"runtime {name!r} needs the Python package{'s' * (len(missing) > 1)} "
            f"{', '.join(missing)}, not installed here (pip install {' '.join(missing)}), "
            f"or choose runtime torch / auto")
    if name == 'tensorrt' and device_type != 'cuda':
        raise RuntimeUnavailable("runtime 'tensorrt' runs on an NVIDIA GPU only: set device cuda, "
                                 "or choose runtime openvino / onnx on the CPU")
    return name


def export_path(weights: Path, digest: str, imgsz: int, precision: str, runtime: str) -> Path:
    """Where the export of ``weights`` for this runtime, image size and precision is cached."""
    return weights.parent / f'{weights.stem}.{digest[:12]}-{imgsz}-{precision}{SUFFIXES[runtime]}'


def exported_model(weights: Path, digest: str, imgsz: int, precision: str, runtime: str,
                   device: str) -> Path:
    """The cached export, made with ultralytics' exporter when missing; WeightsError when that fails."""
    target = export_path(weights, digest, imgsz, precision, runtime)
    if target.exists():
        return target
    from ultralytics import YOLO
    from ultralytics.utils import LOGGER
    LOG.warning('exporting %s for %s (%s, imgsz %d) once; cached as %s', weights.name, runtime,
                precision, imgsz, target)
    start = time.perf_counter()
    level = LOGGER.level
    LOGGER.setLevel(logging.WARNING)  # the exporter's progress and usage hints
    try:
        with tempfile.TemporaryDirectory(prefix=f'.{target.name}.', dir=weights.parent) as folder:
            # The exporter writes beside the file it loads: a copy named like the target.
            source = Path(folder) / f'{target.name.removesuffix(SUFFIXES[runtime])}.pt'
            shutil.copyfile(weights, source)
            made = YOLO(str(source)).export(
                format=FORMATS[runtime], imgsz=imgsz, dynamic=DYNAMIC[runtime], device=device,
                verbose=False, quantize=16 if precision == 'fp16' else None)
            if not made or not Path(made).exists():
                raise RuntimeError('the exporter produced no model')
            try:
                os.replace(made, target)  # atomic: a concurrent loader sees all of it or nothing
            except OSError:
                if not target.exists():  # else another process cached the same export first
                    raise
    except OSError as error:
        raise WeightsError(f'cannot cache the {runtime} export of {weights} in {weights.parent} '
                           f'({error}); make the folder writable or choose runtime torch') from error
    except Exception as error:  # the exporters raise many types
        raise WeightsError(f'{weights}: ultralytics could not export it for {runtime} '
                           f'({type(error).__name__}: {error})') from error
    finally:
        LOGGER.setLevel(level)
    LOG.warning('%s export took %.1f s', runtime, time.perf_counter() - start)
    return target


def openvino_at_export_precision(yolo_model, exported: Path, precision: str) -> bool:
    """Make ultralytics' OpenVINO model infer at ``precision`` on the CPU; True when it does.

    ultralytics compiles with a latency hint only, so on a CPU with bf16 instructions
    (avx512_bf16) OpenVINO infers in bf16: measured here 464 ms against 300 ms in fp32 per
    640x480 frame, and rounded scores. The backend (created by the first predict) keeps its
    compiled model in ``ov_compiled_model``: recompiled with the export's precision.
    """
    backend = getattr(getattr(getattr(yolo_model, 'predictor', None), 'model', None), 'backend', None)
    compiled = getattr(backend, 'ov_compiled_model', None)
    if compiled is None or 'CPU' not in compiled.get_property('EXECUTION_DEVICES'):
        return False
    import openvino as ov
    wanted = ov.Type.f32 if precision == 'fp32' else ov.Type.f16
    if compiled.get_property('INFERENCE_PRECISION_HINT') != wanted:
        core = ov.Core()
        model = core.read_model(str(next(exported.glob('*.xml'))))
        backend.ov_compiled_model = core.compile_model(
            model, 'CPU', {'PERFORMANCE_HINT': 'LATENCY', 'INFERENCE_PRECISION_HINT': wanted})
    return True
