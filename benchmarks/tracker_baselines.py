"""Uniform per-frame adapters around the trackers compared in bench_tracker.py.

Every adapter has ``needs_image`` and ``update(boxes_xyxy, scores, embeddings, image, timestamp)
-> (ids, boxes_xyxy, scores)`` returning the tracks to write for that frame, as each tracker's
own code reports them (ours: deep_sort.confirmed_tracks, the rule of every output of ours; the
others: confirmed tracks matched to a detection in that frame).
"""

import logging

import numpy as np

from perception_deepsort.config import TrackerConfig
from perception_deepsort.deep_sort import confirmed_tracks
from perception_deepsort.frame_tracker import TRACKS, FrameTracker
from perception_ros_glue.detections import Detections


def _empty():
    """No tracks this frame."""
    return np.zeros(0, np.int64), np.zeros((0, 4)), np.zeros(0)


class OursAdapter:
    """Our tracker with a given config, through the per-frame engine the node and tools use;
    appearance from precomputed embeddings."""

    def __init__(self, config: TrackerConfig):
        self.config = config
        self.tracker = FrameTracker(config)
        self.tracker.expect_masks = False
        # Embeddings are given, so only camera motion and box flow read frames.
        self.needs_image = config.camera_motion or config.box_flow

    def update(self, boxes, scores, embeddings, image, timestamp):
        """Track one frame."""
        stamp = int(round(timestamp * 1e9))
        detections = Detections(boxes, scores, np.zeros(len(boxes), np.int64), ['person'])
        self.tracker.detections(stamp, '', detections, 0.0,
                                embeddings=embeddings if self.config.use_appearance else None)
        [output] = [o for o in self.tracker.image(stamp, '', image, 0.0) if o.kind == TRACKS]
        return tracks_of(confirmed_tracks(output.tracks))


def tracks_of(rows):
    """(ids, boxes, scores) of TrackOutputs."""
    if not rows:
        return _empty()
    return (np.array([o.track_id for o in rows]), np.array([o.box for o in rows]),
            np.array([o.score for o in rows]))


class DeepSortRealtimeAdapter:
    """deep-sort-realtime's Tracker + NearestNeighborDistanceMetric with its defaults (paper settings).

    It has no detection threshold of its own; detections below ``min_score`` are dropped as the
    paper's pipeline does.
    """

    needs_image = False

    def __init__(self, min_score: float = 0.5, max_cosine_distance: float = 0.2, nn_budget: int = 100):
        from deep_sort_realtime.deep_sort import nn_matching
        from deep_sort_realtime.deep_sort.detection import Detection
        from deep_sort_realtime.deep_sort.tracker import Tracker

        self._detection = Detection
        self.min_score = min_score
        metric = nn_matching.NearestNeighborDistanceMetric('cosine', max_cosine_distance, nn_budget)
        self.tracker = Tracker(metric, max_iou_distance=0.7, max_age=30, n_init=3)

    def update(self, boxes, scores, embeddings, image, timestamp):
        """Track one frame."""
        keep = scores >= self.min_score
        detections = [self._detection(np.r_[b[:2], b[2:] - b[:2]], s, e, 'person')
                      for b, s, e in zip(boxes[keep], scores[keep], embeddings[keep])]
        self.tracker.predict()
        self.tracker.update(detections)
        rows = [t for t in self.tracker.tracks if t.is_confirmed() and t.time_since_update == 0]
        if not rows:
            return _empty()
        return (np.array([t.track_id for t in rows], np.int64), np.array([t.to_ltrb() for t in rows]),
                np.array([t.get_det_conf() for t in rows], float))


class BoxmotAdapter:
    """A boxmot tracker (ByteTrack, OcSort, BotSort, BoostTrack, DeepOcSort, HybridSort) on the same detections."""

    def __init__(self, name: str, **kwargs):
        import boxmot

        logging.getLogger('boxmot').setLevel(logging.ERROR)  # ECC's 'did not converge' on flat frames
        self.tracker = getattr(boxmot, name)(**kwargs)

    # boxmot's update takes the frame (BoT-SORT's camera-motion compensation uses it).
    needs_image = True

    def update(self, boxes, scores, embeddings, image, timestamp):
        """Track one frame."""
        dets = np.hstack([boxes, scores[:, None], np.zeros((len(boxes), 1))]).astype(np.float32)
        out = np.asarray(self.tracker.update(dets.reshape(-1, 6), image))
        if out.size == 0:
            return _empty()
        return out[:, 4].astype(np.int64) + 1, out[:, :4], out[:, 5]  # ids from 1, as MOTChallenge expects
