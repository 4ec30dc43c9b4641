"""Bad detections are rejected with a warning and counted; malformed calls raise ValueError."""

import logging
import re

import numpy as np
import pytest

from perception_deepsort.config import TrackerConfig
from perception_deepsort.deep_sort import DeepSort

GOOD = [100.0, 100.0, 140.0, 180.0]


def tracker():
    """A tracker confirming tracks at once, so every accepted detection shows up."""
    return DeepSort(TrackerConfig(camera_motion=False, n_init=1, embedder='none'))


def test_nan_negative_and_outside_boxes_are_rejected_with_a_warning(caplog):
    boxes = np.array([GOOD, [np.nan, 0, 10, 10], [50, 50, 40, 60], [50, 50, 50, 60],
                      [700, 100, 740, 180], [-80, -80, -10, -10], [np.inf, 0, 1, 1]])
    with caplog.at_level(logging.WARNING):
        outputs = tracker().update(boxes, np.full(7, 0.9), np.zeros(7, int), timestamp=0.0,
                                   image_size=(640, 480))
    assert [o.detection_index for o in outputs] == [0]
    assert 'rejected 6 of 7 detections' in caplog.text


def test_rejections_are_counted_in_stats():
    deep_sort = tracker()
    image = np.zeros((480, 640, 3), dtype=np.uint8)  # image size inferred from the image
    boxes = np.array([GOOD, [np.nan, 0, 10, 10], [50, 50, 40, 60], [650, 10, 700, 40]])
    deep_sort.update(boxes, [0.9, 0.9, 0.9, np.nan], [0, 0, 0, 0], timestamp=0.0, image=image)
    assert deep_sort.stats['rejected_nonfinite'] == 2
    assert deep_sort.stats['rejected_size'] == 1
    assert deep_sort.stats['rejected_outside'] == 0  # its NaN score is counted first
    deep_sort.update(boxes[[0, 3]], [0.9, 0.9], [0, 0], timestamp=0.1, image=image)
    assert deep_sort.stats['rejected_outside'] == 1
    assert deep_sort.stats['detections'] == 6 and deep_sort.stats['frames'] == 2


def test_nan_embedding_rejects_only_that_detection():
    embeddings = np.ones((2, 8), dtype=np.float32)
    embeddings[1, 3] = np.nan
    outputs = tracker().update(np.array([GOOD, [300, 100, 340, 180]]), [0.9, 0.9], [0, 0],
                               timestamp=0.0, embeddings=embeddings)
    assert [o.detection_index for o in outputs] == [0]


def test_detection_index_refers_to_the_callers_rows():
    boxes = np.array([[np.nan] * 4, GOOD, [300, 100, 340, 180]])
    outputs = tracker().update(boxes, [0.9, 0.05, 0.9], [0, 0, 0], timestamp=0.0)
    assert [o.detection_index for o in outputs] == [2]  # row 1 is below low_score_threshold


@pytest.mark.parametrize('kwargs, message', [
    (dict(boxes_xyxy=np.zeros((2, 3)), scores=[1, 1], class_ids=[0, 0]), 'shape (N, 4)'),
    (dict(boxes_xyxy=np.zeros((2, 4)), scores=[1], class_ids=[0, 0]), 'scores has 1'),
    (dict(boxes_xyxy=np.zeros((2, 4)), scores=[1, 1], class_ids=[0]), 'class_ids has 1'),
    (dict(boxes_xyxy=np.zeros((2, 4)), scores=[1, 1], class_ids=[0, 0],
          embeddings=np.zeros((3, 8))), 'embeddings must have shape'),
    (dict(boxes_xyxy=np.zeros((1, 4)), scores=[1], class_ids=[0],
          masks=[np.ones((2, 2), bool)]), 'given together'),
    (dict(boxes_xyxy=np.zeros((1, 4)), scores=[1], class_ids=[0.5]), 'integers'),
])
def test_malformed_inputs_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        tracker().update(**kwargs)


def test_empty_frames_and_non_finite_timestamp():
    deep_sort = tracker()
    assert deep_sort.update([], [], []) == []
    assert deep_sort.update(np.zeros((0, 4)), None, None, timestamp=1.0) == []
    with pytest.raises(ValueError, match='timestamp'):
        deep_sort.update([], [], [], timestamp=float('nan'))


def test_zero_dimensional_embeddings_mean_motion_only():
    # The paper's cascade without IoU fallback: only motion can keep the id (no appearance).
    deep_sort = DeepSort(TrackerConfig(cascade_cost='appearance', camera_motion=False, n_init=1,
                                       max_iou_distance=0.0))
    for f in range(3):
        outputs = deep_sort.update(np.array([GOOD]) + 2 * f, [0.9], [0], timestamp=f / 30,
                                   embeddings=np.zeros((1, 0), dtype=np.float32))
    assert [(o.track_id, o.hits) for o in outputs] == [(1, 3)]
