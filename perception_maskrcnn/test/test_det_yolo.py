"""ultralytics backend on small models built from yaml (offline): detection and segmentation."""
import numpy as np
import pytest

from perception_maskrcnn.backends import WeightsError, create_detector
from perception_ros_glue.detections import paste_mask


@pytest.fixture(scope='module')
def yolo_files(tmp_path_factory):
    """Untrained YOLOv5u detection and YOLOv8 segmentation checkpoints saved as loadable .pt files."""
    import torch
    from ultralytics import YOLO
    # Random weights drawn from torch's global generator: seeded, so the models do not depend
    # on which tests ran before (one draw, after another order, detected nothing).
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp('yolo')
    files = {'detect': folder / 'yolov5nu-random.pt', 'segment': folder / 'yolov8n-seg-random.pt'}
    YOLO('yolov5nu.yaml').save(files['detect'])
    YOLO('yolov8n-seg.yaml').save(files['segment'])
    return files


@pytest.fixture(scope='module')
def image():
    """A 200x300 RGB image of random texture (untrained models fire everywhere on it)."""
    return np.random.default_rng(0).integers(0, 255, (200, 300, 3), dtype=np.uint8)


def test_detection_checkpoint_by_path(yolo_files, image):
    detector = create_detector('yolo', weights=yolo_files['detect'], device='cpu', score_threshold=0.0,
                               max_detections=25, imgsz=320)
    assert detector.name == 'yolo' and len(detector.class_names) == 80
    assert f'weights={yolo_files["detect"]}' in detector.describe()
    dets = detector.detect(image)
    assert 0 < len(dets) <= 25 and dets.masks is None
    assert np.all(dets.boxes[:, [0, 2]] <= image.shape[1]) and np.all(dets.boxes[:, [1, 3]] <= image.shape[0])
    assert np.all(np.diff(dets.scores) <= 0)
    assert set(dets.timings) == {'preprocess', 'inference', 'postprocess'}
    wanted = dets.labels()[0]
    only = create_detector('yolo', weights=yolo_files['detect'], device='cpu', score_threshold=0.0,
                           classes=[wanted], imgsz=320).detect(image)
    assert len(only) > 0 and set(only.labels()) == {wanted}


def test_segmentation_masks_at_original_size(yolo_files, image):
    from ultralytics import YOLO
    from perception_maskrcnn.backends.yolo import MASK_THRESHOLD
    detector = create_detector('auto', weights=yolo_files['segment'], device='cpu', score_threshold=0.0,
                               max_detections=10, imgsz=320)
    assert detector.name == 'yolo' and 'auto:' in detector.describe()
    dets = detector.detect(image)
    assert 0 < len(dets) and len(dets.masks) == len(dets)
    # Reference: ultralytics' own full-size masks of the same prediction. Masks at the model's
    # input size (320 letterboxed) would put the right-shaped windows over the wrong pixels.
    reference = YOLO(yolo_files['segment']).predict(
        np.ascontiguousarray(image[..., ::-1]), conf=0.0, iou=detector.predict_options['iou'], imgsz=320,
        max_det=10, retina_masks=True, verbose=False)[0]
    ref_boxes = reference.boxes.xyxy.numpy()
    ref_masks = reference.masks.data.numpy() > MASK_THRESHOLD
    assert ref_masks.shape[1:] == image.shape[:2]
    assert sum(window.sum() for window in dets.masks) > 0, 'some mask has pixels (else nothing is checked)'
    for box, window, origin in zip(dets.boxes, dets.masks, dets.mask_origins):
        # An untrained model repeats boxes (one per class): any reference row of this box.
        rows = np.flatnonzero(np.abs(ref_boxes - box).max(axis=1) < 1e-3)
        assert rows.size, box
        x0, y0, x_end, y_end = (int(np.floor(box[0])), int(np.floor(box[1])),
                                min(int(np.ceil(box[2])), image.shape[1]),
                                min(int(np.ceil(box[3])), image.shape[0]))
        # The window is the box in original-image pixels, not more (not the input size) ...
        assert window.dtype == bool and tuple(origin) == (x0, y0)
        assert window.shape == (y_end - y0, x_end - x0)
        # ... and holds the whole mask, which lies inside the box.
        outside = np.ones(image.shape[:2], bool)
        outside[y0:y_end, x0:x_end] = False
        assert not ref_masks[rows][:, outside].any()
        full = paste_mask(window, origin, image.shape)
        assert any(np.array_equal(full, ref_masks[row]) for row in rows)


def test_release_name_without_internet_explains_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no yolov5su.pt lying around here
    with pytest.raises(WeightsError, match=r"could not get 'yolov5su.pt'.*pass its path"):
        create_detector('yolo', weights='yolov5su.pt', device='cpu')


def test_non_ultralytics_file_is_refused(tmp_path):
    import torch
    path = tmp_path / 'state.pt'
    torch.save({'a': torch.zeros(1)}, path)
    with pytest.raises(WeightsError, match=f'{path}: not an ultralytics checkpoint'):
        create_detector('yolo', weights=path, device='cpu')
