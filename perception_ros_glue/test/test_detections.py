"""Detections contract: mask windows, crop/paste round trips, subsets and validation."""
import numpy as np
import pytest

from perception_ros_glue.detections import Detections, crop_mask, mask_window, paste_mask


def test_mask_window_floors_ceils_and_clips():
    assert mask_window([10.4, 5.6, 20.1, 30.0], (100, 200)) == (10, 5, 21, 30)
    assert mask_window([-5.0, -1.0, 250.0, 99.5], (100, 200, 3)) == (0, 0, 200, 100)
    # Degenerate boxes give an empty window, never a negative one.
    x0, y0, x_end, y_end = mask_window([50, 50, 40, 40], (100, 200))
    assert x_end >= x0 and y_end >= y0


def test_crop_paste_round_trip_keeps_every_pixel_inside_the_box():
    rng = np.random.default_rng(0)
    full = np.zeros((60, 80), bool)
    full[10:40, 20:70] = rng.random((30, 50)) > 0.3
    box = [19.5, 9.2, 70.0, 40.0]
    window, origin = crop_mask(full, box)
    assert window.dtype == bool and origin.dtype == np.int32
    assert tuple(origin) == (19, 9) and window.shape == (31, 51)
    np.testing.assert_array_equal(paste_mask(window, origin, full.shape), full)


def test_paste_clips_windows_that_overhang_the_image():
    window = np.ones((10, 10), bool)
    full = paste_mask(window, (95, 45), (50, 100))
    assert full.sum() == 5 * 5 and full[45:, 95:].all()


def test_detections_normalise_dtypes_labels_and_select():
    dets = Detections([[0, 0, 10, 10], [5, 5, 20, 30]], [0.9, 0.4], [2, 1], ['bg', 'car', 'person'],
                      [np.ones((10, 10), bool), np.ones((25, 15), bool)], [[0, 0], [5, 5]])
    assert dets.boxes.dtype == np.float32 and dets.class_ids.dtype == np.int64
    assert dets.mask_origins.dtype == np.int32
    assert dets.labels() == ['person', 'car']
    first = dets.select(dets.scores > 0.5)
    assert len(first) == 1 and first.labels() == ['person'] and len(first.masks) == 1
    full = dets.full_masks((40, 40))
    assert full.shape == (2, 40, 40) and full[1].sum() == 25 * 15


def test_detections_reject_inconsistent_lengths():
    with pytest.raises(ValueError, match='2 boxes but 1 scores'):
        Detections(np.zeros((2, 4)), [0.5], [1, 1], ['bg', 'car'])
    empty = Detections.empty(['bg', 'car'], with_masks=True)
    assert len(empty) == 0 and empty.masks == [] and empty.mask_origins.shape == (0, 2)
