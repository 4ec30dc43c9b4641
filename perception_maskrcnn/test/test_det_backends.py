"""Backends on small real models: Mask R-CNN plumbing, weight errors, HOG fallback and auto choice."""
import logging
import warnings

import cv2
import numpy as np
import pytest
import torch
from torchvision.models.detection import MaskRCNN
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone
from torchvision.ops import box_iou
from torchvision.ops.misc import FrozenBatchNorm2d

from perception_maskrcnn.backends import WeightsError, create_detector
from perception_maskrcnn.backends.maskrcnn import COCO_CLASS_NAMES
from perception_maskrcnn.backends.maskrcnn_lite import DEFAULT_LITE, build_lite
from perception_ros_glue.detections import paste_mask

SMALL = dict(min_size=128, max_size=160)


@pytest.fixture(scope='module')
def image():
    """A textured 120x160 RGB test image with a bright block."""
    rng = np.random.default_rng(1)
    img = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    img[30:90, 40:120] = (200, 30, 30)
    return img


@pytest.fixture(scope='module')
def coco_format_state_dict(tmp_path_factory):
    """A random Mask R-CNN v1 state dict in the layout of torchvision's COCO file (FrozenBatchNorm, 91 classes)."""
    torch.manual_seed(0)
    backbone = resnet_fpn_backbone(backbone_name='resnet50', weights=None, norm_layer=FrozenBatchNorm2d,
                                   trainable_layers=3)
    path = tmp_path_factory.mktemp('weights') / 'maskrcnn_resnet50_fpn_coco-random.pth'
    torch.save(MaskRCNN(backbone, num_classes=91).state_dict(), path)
    return path


def check_valid(dets, image_shape, masks=True):
    """Every field follows the Detections contract for this image."""
    n = len(dets)
    assert dets.boxes.shape == (n, 4) and dets.scores.shape == (n,) and dets.class_ids.shape == (n,)
    assert np.all(dets.boxes[:, 2] >= dets.boxes[:, 0]) and np.all(dets.boxes[:, 3] >= dets.boxes[:, 1])
    assert np.all(dets.boxes >= 0) and np.all(dets.boxes[:, [0, 2]] <= image_shape[1])
    assert np.all(dets.boxes[:, [1, 3]] <= image_shape[0])
    assert np.all((dets.scores >= 0) & (dets.scores <= 1))
    assert np.all(dets.class_ids < len(dets.class_names))
    assert set(dets.timings) == {'preprocess', 'inference', 'postprocess'}
    assert all(v >= 0 for v in dets.timings.values())
    if masks:
        assert len(dets.masks) == n and dets.mask_origins.shape == (n, 2)
        for window, origin in zip(dets.masks, dets.mask_origins):
            assert window.dtype == bool
            assert paste_mask(window, origin, image_shape).sum() == window.sum()


@pytest.mark.slow  # Mask R-CNN inference on the CPU: ~20 s here
def test_random_init_maskrcnn_plumbing_and_class_filter(image):
    torch.manual_seed(0)
    detector = create_detector('maskrcnn', device='cpu', score_threshold=0.0, max_detections=20,
                               allow_random_init=True, **SMALL)
    assert detector.class_names == COCO_CLASS_NAMES and detector.device == 'cpu'
    assert 'backend=maskrcnn weights=random-init device=cpu precision=fp32' == detector.describe()
    dets = detector.detect(image)
    assert 0 < len(dets) <= 20
    check_valid(dets, image.shape)
    wanted = sorted(set(dets.labels()))[:1]
    filtered = create_detector('maskrcnn', device='cpu', score_threshold=0.0, classes=wanted,
                               allow_random_init=True, **SMALL)
    filtered.model.load_state_dict(detector.model.state_dict())
    only = filtered.detect(image)
    assert len(only) > 0 and set(only.labels()) == set(wanted)


@pytest.mark.slow  # Mask R-CNN inference on the CPU: ~20 s here
def test_read_only_image_from_a_message_buffer_detects_without_warnings(image):
    # The nodes hand detectors a read-only view on the message's pixel bytes.
    torch.manual_seed(0)
    detector = create_detector('maskrcnn', device='cpu', score_threshold=0.0, max_detections=5,
                               allow_random_init=True, **SMALL)
    view = np.frombuffer(image.tobytes(), np.uint8).reshape(image.shape)
    assert not view.flags.writeable
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        dets = detector.detect(view)
    assert len(dets) == len(detector.detect(image.copy()))


def test_unknown_class_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown class name.*'tractor'.*'car'"):
        create_detector('maskrcnn', classes=['tractor'], allow_random_init=True, device='cpu', **SMALL)


def test_bad_images_are_rejected_clearly():
    detector = create_detector('hog')
    with pytest.raises(ValueError, match='HxWx3 uint8 RGB'):
        detector.detect(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match='empty'):
        detector.detect(np.zeros((0, 10, 3), np.uint8))


def test_no_weights_without_random_init_is_an_error():
    with pytest.raises(WeightsError, match="weights='DEFAULT'"):
        create_detector('maskrcnn', device='cpu')


def test_missing_weights_file_is_named(tmp_path):
    missing = tmp_path / 'nowhere' / 'model.pth'
    for backend in ('maskrcnn', 'yolo', 'auto'):
        with pytest.raises(WeightsError, match=f'not found: {missing}'):
            create_detector(backend, weights=missing, device='cpu')


def test_corrupt_files_are_weights_errors(tmp_path, coco_format_state_dict):
    garbage = tmp_path / 'garbage.pth'
    garbage.write_bytes(np.random.default_rng(0).bytes(4096))
    truncated = tmp_path / 'truncated.pth'
    truncated.write_bytes(coco_format_state_dict.read_bytes()[:100_000])
    for path in (garbage, truncated):
        with pytest.raises(WeightsError, match=str(path)):
            create_detector('maskrcnn', weights=path, device='cpu')


def test_torchvision_coco_format_state_dict_loads(coco_format_state_dict, image):
    detector = create_detector('maskrcnn', weights=coco_format_state_dict, device='cpu',
                               score_threshold=0.0, max_detections=5, **SMALL)
    assert detector.class_names == COCO_CLASS_NAMES
    check_valid(detector.detect(image), image.shape)
    auto = create_detector('auto', weights=coco_format_state_dict, device='cpu', **SMALL)
    assert auto.name == 'maskrcnn' and 'auto:' in auto.describe()


def test_wrong_architecture_is_a_weights_error(tmp_path, coco_format_state_dict):
    with pytest.raises(WeightsError, match=f'{coco_format_state_dict}: does not fit maskrcnn_resnet50_fpn_v2'):
        create_detector('maskrcnn_v2', weights=coco_format_state_dict, device='cpu', **SMALL)
    resnet18 = tmp_path / 'resnet18_maskrcnn.pth'
    torch.save(build_lite(3, DEFAULT_LITE).state_dict(), resnet18)
    with pytest.raises(WeightsError, match=f'{resnet18}: does not fit maskrcnn_resnet50_fpn with 3 classes'):
        create_detector('maskrcnn', weights=resnet18, device='cpu')


def test_unknown_weights_name_lists_known_names():
    with pytest.raises(WeightsError, match="'COCO_V9'.*COCO_V1"):
        create_detector('maskrcnn', weights='COCO_V9', device='cpu')


def test_hog_finds_a_person_and_warns(caplog):
    # A dark upright silhouette on a light background, the HOG people model's favourite input.
    img = np.full((256, 192, 3), 220, np.uint8)
    cv2.circle(img, (96, 70), 14, (30, 30, 30), -1)
    cv2.ellipse(img, (96, 130), (24, 50), 0, 0, 360, (30, 30, 30), -1)
    cv2.line(img, (88, 170), (78, 230), (30, 30, 30), 10)
    cv2.line(img, (104, 170), (114, 230), (30, 30, 30), 10)
    with caplog.at_level(logging.WARNING):
        detector = create_detector('hog', score_threshold=0.0)
    assert 'OFFLINE FALLBACK' in caplog.text
    assert detector.class_names == ['person'] and detector.device == 'cpu'
    dets = detector.detect(img)
    check_valid(dets, img.shape, masks=False)
    assert dets.masks is None
    assert len(dets) >= 1
    # 5x larger than max_side: HOG runs on a downscaled copy and the boxes are scaled back, so
    # they land on the same person in big-image pixels (the box 5x the small image's).
    big = cv2.resize(img, None, fx=5, fy=5)
    big_dets = detector.detect(big)
    check_valid(big_dets, big.shape, masks=False)
    assert len(big_dets) >= 1
    best_small, best_big = dets.boxes[np.argmax(dets.scores)], big_dets.boxes[np.argmax(big_dets.scores)]
    assert box_iou(torch.as_tensor(best_big[None] / 5), torch.as_tensor(best_small[None])).item() > 0.8
    assert best_big[2] - best_big[0] > 3 * (best_small[2] - best_small[0])


def test_auto_without_weights_falls_back_to_hog_naming_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv('PERCEPTION_WEIGHTS_DIR', str(tmp_path / 'env'))
    monkeypatch.setenv('ROS_HOME', str(tmp_path / 'ros'))
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    monkeypatch.chdir(tmp_path)
    detector = create_detector('auto')
    assert detector.name == 'hog'
    looked = [tmp_path / 'env', tmp_path / 'ros' / 'perception' / 'weights',
              tmp_path / 'torch' / 'hub' / 'checkpoints', tmp_path / 'weights']
    assert (f'no weights given or found locally (looked in: {", ".join(map(str, looked))})'
            in detector.describe())


def test_auto_finds_weights_in_the_weights_dir(tmp_path, monkeypatch, coco_format_state_dict):
    monkeypatch.setenv('PERCEPTION_WEIGHTS_DIR', str(coco_format_state_dict.parent))
    detector = create_detector('auto', device='cpu', **SMALL)
    assert detector.name == 'maskrcnn' and f'found {coco_format_state_dict}' in detector.describe()


def test_hog_without_hog_in_opencv_names_the_cause():
    """OpenCV 5's main modules have no HOGDescriptor: the error says so, not an AttributeError."""
    from types import SimpleNamespace

    from perception_maskrcnn.backends.hog import people_detector
    opencv5_main_modules = SimpleNamespace(__version__='5.0.0')
    with pytest.raises(RuntimeError, match=r'OpenCV 5\.0\.0 has no HOG .*xobjdetect.*contrib'):
        people_detector(opencv5_main_modules)
    assert people_detector(cv2).getDescriptorSize() == 3780  # the real one: 64x128 window


def test_hog_on_images_smaller_than_its_window_finds_nobody():
    """OpenCV's HOG crashes the process (SIGSEGV) on an image smaller than its 64x128 window:
    a tiny or thumbnail camera stream must give no detections, not kill the node."""
    detector = create_detector('hog')
    for shape in [(64, 96, 3), (127, 64, 3), (128, 63, 3), (1, 1, 3)]:
        assert len(detector.detect(np.zeros(shape, np.uint8))) == 0, shape
