"""With the extensions off, our tracker makes the same decisions as the reference DeepSORT code.

deep-sort-realtime's Tracker is the reference implementation (Wojke et al.) with small changes;
its galleries also re-add each confirmed track's last feature every frame, which only matters
once the budget truncates, so both run with a budget larger than the sequence.
"""

import numpy as np
from deep_sort_realtime.deep_sort import nn_matching
from deep_sort_realtime.deep_sort.detection import Detection
from deep_sort_realtime.deep_sort.tracker import Tracker

from perception_deepsort.config import TrackerConfig
from perception_deepsort.deep_sort import DeepSort, TrackState

FRAMES = 150
BUDGET = 1000


def scene(seed=11, objects=8, dim=32):
    """Objects crossing each other with noisy boxes, dropped detections and noisy embeddings."""
    rng = np.random.default_rng(seed)
    position = rng.uniform([100, 100], [700, 400], (objects, 2))
    velocity = rng.normal(0, 4, (objects, 2))
    size = rng.uniform([30, 60], [60, 140], (objects, 2))
    looks = rng.normal(size=(objects, dim))
    for _ in range(FRAMES):
        position += velocity
        seen = rng.random(objects) > 0.15  # about one detection in seven is missing
        centre = position[seen] + rng.normal(0, 1.5, (seen.sum(), 2))
        boxes = np.hstack([centre - size[seen] / 2, centre + size[seen] / 2])
        embeddings = looks[seen] + rng.normal(0, 0.4, (seen.sum(), dim))
        yield boxes, embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)


def test_paper_settings_match_the_reference_implementation():
    ours = DeepSort(TrackerConfig.paper(min_score=0.0, low_score_threshold=0.0,
                                        nn_budget=BUDGET))
    reference = Tracker(nn_matching.NearestNeighborDistanceMetric('cosine', 0.2, BUDGET),
                        max_iou_distance=0.7, max_age=30, n_init=3)
    id_map = {}
    matched_frames = 0
    for frame, (boxes, embeddings) in enumerate(scene()):
        outputs = ours.update(boxes, np.ones(len(boxes)), np.zeros(len(boxes), int),
                              embeddings=embeddings)
        reference.predict()
        reference.update([Detection(np.r_[b[:2], b[2:] - b[:2]], 1.0, e)
                          for b, e in zip(boxes, embeddings)])
        # deep-sort-realtime keeps boxes in float32: compare to a hundredth of a pixel.
        ours_tracks = sorted((tuple(o.box), o.track_id) for o in outputs
                             if o.state == TrackState.CONFIRMED)
        reference_tracks = sorted((tuple(t.to_ltrb()), t.track_id) for t in reference.tracks
                                  if t.is_confirmed() and t.time_since_update == 0)
        assert len(ours_tracks) == len(reference_tracks), frame
        np.testing.assert_allclose(np.reshape([box for box, _ in ours_tracks], (-1, 4)),
                                   np.reshape([box for box, _ in reference_tracks], (-1, 4)),
                                   atol=1e-2, err_msg=f'frame {frame}')
        for (_, our_id), (_, reference_id) in zip(ours_tracks, reference_tracks):
            assert id_map.setdefault(our_id, reference_id) == reference_id, frame
        matched_frames += bool(ours_tracks)
    assert matched_frames > FRAMES - 5
    assert len(id_map) >= 8  # every object was tracked (and some re-identified after gaps)
