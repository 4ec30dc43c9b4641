"""Association extensions beyond the paper: adaptive appearance weight, EMA features."""

import numpy as np
import pytest

from perception_deepsort.config import TrackerConfig
from perception_deepsort.nn_matching import FeatureGallery, normalize
from perception_deepsort.deep_sort import DeepSort

FPS = 30.0


def box(cx, cy, w=40.0, h=80.0):
    """xyxy box around a centre."""
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def ids_after_ambiguous_frame(config):
    """Two side-by-side people; in the last frame their embeddings come out swapped-ish.

    Returns the track id of the left person before and after that frame.
    """
    rng = np.random.default_rng(3)
    left, right = normalize(rng.normal(size=(2, 64)))
    tracker = DeepSort(config)
    boxes = np.array([box(100, 100), box(112, 100)])
    ids = []
    for frame in range(8):
        # A weak embedder: in the last frame the left person looks like the right one did.
        swapped = frame == 7
        features = (normalize(np.stack([right + 0.3 * left, left + 0.3 * right])) if swapped
                    else np.stack([left, right]))
        outputs = tracker.update(boxes, np.full(2, 0.9), np.zeros(2, dtype=int),
                                 timestamp=frame / FPS, embeddings=features)
        ids.append({o.detection_index: o.track_id for o in outputs}.get(0))
    return ids[-2], ids[-1]


def test_adaptive_cost_keeps_id_where_pure_appearance_swaps():
    before, after = ids_after_ambiguous_frame(TrackerConfig.paper())
    assert before is not None and after != before  # paper cascade trusts appearance: swap
    before, after = ids_after_ambiguous_frame(TrackerConfig.paper(cascade_cost='adaptive'))
    assert before is not None and after == before  # the overlap keeps the id


def test_ema_gallery_keeps_one_normalised_running_average():
    gallery = FeatureGallery(budget=100, ema=0.9)
    gallery.add_rows(1)
    first, second = np.eye(4, dtype=np.float32)[:2]
    gallery.append(np.array([0]), first[None])
    gallery.append(np.array([0]), second[None])
    assert gallery.sizes().tolist() == [1]
    expected = normalize((0.9 * first + 0.1 * second)[None])[0]
    distance = gallery.min_cosine_distance(np.array([0]), expected[None], np.ones((1, 1), bool))
    assert distance[0, 0] == pytest.approx(0.0, abs=1e-6)


def test_paper_settings_switch_every_extension_off():
    paper = TrackerConfig.paper()
    assert (paper.cascade_cost, paper.feature_ema, paper.time_based, paper.camera_motion,
            paper.low_score_pass, paper.class_aware, paper.relink_lost) == (
        'appearance', 0.0, False, False, False, False, False)
    assert (paper.max_cosine_distance, paper.nn_budget, paper.max_iou_distance,
            paper.max_age, paper.n_init) == (0.2, 100, 0.7, 30, 3)
    assert (paper.std_weight_position, paper.std_weight_velocity) == (1 / 20, 1 / 160)
    assert TrackerConfig.paper(n_init=1).n_init == 1


@pytest.mark.parametrize('field, value', [('cascade_cost', 'mahalanobis'), ('appearance_margin', -0.1),
                                          ('feature_ema', 1.0), ('std_weight_velocity', 0.0)])
def test_invalid_extension_values_are_rejected(field, value):
    with pytest.raises(ValueError, match=field):
        TrackerConfig(**{field: value})
