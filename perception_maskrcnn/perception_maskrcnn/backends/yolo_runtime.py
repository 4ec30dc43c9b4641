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

Precision ``int8`` (OpenVINO through NNCF, TensorRT) is post-training quantization by
ultralytics' exporter, calibrated on a folder of images (default: the two street photos that
ship with ultralytics, so nothing is fitted to the footage); the cache key then carries a
digest of those images.
"""
from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import yaml

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
PRECISIONS = ('auto', 'fp32', 'fp16', 'int8')
INT8_PACKAGES = {'openvino': ('nncf',), 'tensorrt': ()}  # runtimes that quantize to int8
IMAGE_SUFFIXES = ('.bmp', '.jpeg', '.jpg', '.png')


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


def choose_precision(precision: str, runtime: str, device_type: str) -> str:
    """fp32 / fp16 / int8 for this runtime and device (``auto``: fp16 on CUDA, else fp32)."""
    name = (precision or 'auto').strip().lower()
    if name not in PRECISIONS:
        raise ValueError(f'unknown precision {precision!r}; choose one of {", ".join(PRECISIONS)}')
    if name == 'auto':
        return 'fp16' if device_type == 'cuda' else 'fp32'
    if name == 'fp16' and device_type != 'cuda':
        raise ValueError('precision fp16 runs on CUDA only (no faster than fp32 on the CPU); '
                         'choose fp32, or int8 with runtime openvino')
    if name == 'int8':
        if runtime not in INT8_PACKAGES:
            raise ValueError(f'precision int8 needs runtime openvino (CPU) or tensorrt (CUDA), '
                             f'not {runtime!r}')
        missing = [p for p in INT8_PACKAGES[runtime] if importlib.util.find_spec(p) is None]
        if missing:
            raise RuntimeUnavailable(f"int8 with runtime {runtime!r} needs the Python package "
                                     f"{', '.join(missing)}, not installed here (pip install "
                                     f"{' '.join(missing)}), or choose precision fp32")
    return name


def calibration_images(folder: str | Path | None) -> tuple[list[Path], str]:
    """(image files, their 8-hex-digit digest) for int8 calibration; default: ultralytics' photos."""
    if folder:
        root = Path(folder).expanduser()
    else:
        import ultralytics
        root = Path(ultralytics.__file__).parent / 'assets'
    images = sorted(p for p in root.glob('*') if p.suffix.lower() in IMAGE_SUFFIXES) \
        if root.is_dir() else []
    if not images:
        raise WeightsError(f'int8 calibration: no {"/".join(IMAGE_SUFFIXES)} images in {root}; '
                           f'give a folder of camera frames (int8_calibration) or choose fp32')
    digest = hashlib.sha256()
    for image in images:
        digest.update(image.read_bytes())
    return images, digest.hexdigest()[:8]


def _calibration_data(folder: Path, images: list[Path], names: dict) -> str:
    """A dataset YAML over copies of ``images`` (ultralytics caches labels beside them)."""
    (folder / 'images').mkdir()
    for image in images:
        shutil.copyfile(image, folder / 'images' / image.name)
    data = folder / 'calibration.yaml'
    data.write_text(yaml.safe_dump({'path': str(folder), 'train': 'images', 'val': 'images',
                                    'names': dict(names)}))
    return str(data)


def export_path(weights: Path, digest: str, imgsz: int, precision: str, runtime: str) -> Path:
    """Where the export of ``weights`` for this runtime, image size and precision is cached."""
    return weights.parent / f'{weights.stem}.{digest[:12]}-{imgsz}-{precision}{SUFFIXES[runtime]}'


def exported_model(weights: Path, digest: str, imgsz: int, precision: str, runtime: str,
                   device: str, calibration: str | Path | None = None) -> Path:
    """The cached export, made with ultralytics' exporter when missing; WeightsError when that fails.

    ``calibration``: folder of images for precision int8 (default: ultralytics' sample photos).
    """
    images = []
    if precision == 'int8':
        images, images_digest = calibration_images(calibration)
        precision = f'int8-{images_digest}'
    target = export_path(weights, digest, imgsz, precision, runtime)
    if target.exists():
        return target
    from ultralytics import YOLO
    from ultralytics.utils import LOGGER
    LOG.warning('exporting %s for %s (%s, imgsz %d) once; cached as %s', weights.name, runtime,
                precision, imgsz, target)
    start = time.perf_counter()
    if images:
        importlib.import_module('nncf')  # it sets its logger to INFO when imported: before quieting
    quiet = (LOGGER, logging.getLogger('nncf'))  # the exporter's progress and usage hints
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.WARNING)
    try:
        # ultralytics names the export by replacing every '.pt' in the source's path: a random
        # suffix after a '.' could start with 'pt' (it did, once in a test run), hence the '-'.
        with tempfile.TemporaryDirectory(prefix=f'.{target.name}-', dir=weights.parent) as folder:
            # The exporter writes beside the file it loads: a copy named like the target.
            source = Path(folder) / f'{target.name.removesuffix(SUFFIXES[runtime])}.pt'
            shutil.copyfile(weights, source)
            model = YOLO(str(source))
            options = {'quantize': 16} if precision == 'fp16' else {}
            if images:
                options = {'quantize': 8,
                           'data': _calibration_data(Path(folder), images, model.names)}
            made = model.export(format=FORMATS[runtime], imgsz=imgsz, dynamic=DYNAMIC[runtime],
                                device=device, verbose=False, **options)
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
        for logger, level in zip(quiet, levels):
            logger.setLevel(level)
    LOG.warning('%s export took %.1f s', runtime, time.perf_counter() - start)
    return target


def openvino_at_export_precision(yolo_model, exported: Path, precision: str,
                                 threads: int = 0) -> bool:
    """Make ultralytics' OpenVINO model infer at ``precision`` on the CPU (with ``threads``
    inference threads when > 0); True when it does.

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
    # int8: the quantized layers run in int8 whatever the hint; the others in fp32.
    wanted = ov.Type.f16 if precision == 'fp16' else ov.Type.f32
    config = {'PERFORMANCE_HINT': 'LATENCY', 'INFERENCE_PRECISION_HINT': wanted}
    if threads > 0:  # the tracker keeps the other cores of a small machine
        config['INFERENCE_NUM_THREADS'] = threads
    if (compiled.get_property('INFERENCE_PRECISION_HINT') != wanted
            or (threads > 0 and compiled.get_property('INFERENCE_NUM_THREADS') != threads)):
        core = ov.Core()
        model = core.read_model(str(next(exported.glob('*.xml'))))
        backend.ov_compiled_model = core.compile_model(model, 'CPU', config)
    return True
