"""The multi-target tracker: prediction, association and track management (paper, section 2).

Association per frame, config.cascade_cost = 'adaptive' (default):
1. every confirmed track against the high-score detections in one assignment on the IoU
   distance (pairs up to max_iou_distance, no Mahalanobis gate: ByteTrack's first stage);
   appearance lowers a pair's cost only as far as it singles that pair out among the
   candidates of its track and its detection (appearance_weight.py), so near-identical
   embeddings leave the decision to geometry;
2. tentative tracks against the detections left, by IoU;
3. ByteTrack-style pass (low_score_pass): tracks still unmatched (confirmed ones; tentative
   ones too with low_score_confirms, a match counting towards n_init) against low-score
   detections, by IoU; these detections never start tracks nor enter a gallery.
cascade_cost = 'appearance' is the paper: matching cascade over confirmed tracks, most recently
seen first, on the cosine distance inside the Mahalanobis gate (motion only: the Mahalanobis
distance), then IoU matching of tentative tracks and tracks missed for exactly one frame.
With class-aware association every cost across classes is infinite.
"""

from __future__ import annotations

import numpy as np

from .config import TrackerConfig
from .detection import DetectionBatch
from .iou_matching import iou
from .kalman_filter import Innovation, KalmanFilter, squared_mahalanobis
from .linear_assignment import min_cost_matching, sparse_matching_cascade
from .camera_motion import warp_states
from .appearance_weight import appearance_weight, weighted_cost
from .relink import relink_pairs
from .track import CONFIRMED, TENTATIVE, TrackSet

#: Smallest aspect ratio and height (pixels) a predicted box may reach.
MIN_SIZE = 1e-2

#: A new track's velocity std, fraction of the box height per frame: the paper's (10 x 1/160),
#: whatever std_weight_velocity, so a smaller process noise does not make the filter slow to
#: pick up the speed of a fast object it has just seen.
INITIAL_VELOCITY_STD = 10 / 160


class Tracker:
    """DeepSORT tracker over batched track state; ids increase for the object's lifetime."""

    def __init__(self, config: TrackerConfig):
        self.config = config
        self.kf = KalmanFilter(config.std_weight_position, config.std_weight_velocity,
                               INITIAL_VELOCITY_STD, config.box_state)
        self.tracks = TrackSet(config.nn_budget, config.feature_ema)
        self._next_id = 1

    def reset(self, restart_ids: bool = False) -> None:
        """Drop every track and gallery; ids keep increasing unless restart_ids."""
        self.tracks = TrackSet(self.config.nn_budget, self.config.feature_ema)
        if restart_ids:
            self._next_id = 1

    def predict(self, steps: float = 1.0, missed: bool = True) -> None:
        """Propagate every track by `steps` nominal frames; call once per frame before update.

        missed False: a frame without detections, which does not count against the tracks.
        """
        t = self.tracks
        t.means, t.covs = self.kf.predict(t.means, t.covs, steps)
        # Long extrapolation of a shrinking box must not produce a negative size.
        np.maximum(t.means[:, 2:4], MIN_SIZE, out=t.means[:, 2:4])
        if missed:
            t.mark_predicted()
        else:
            t.detection_index[:] = -1

    def observe(self, rows: np.ndarray, boxes: np.ndarray, noise_scale: float) -> None:
        """Kalman-correct tracks `rows` with boxes seen in the image without a detection (box
        flow), whose noise is noise_scale times a detection's; no hit is recorded."""
        t = self.tracks
        scale = np.full(len(rows), noise_scale)
        innovation = self.kf.innovation(t.means[rows], t.covs[rows], scale)
        t.means[rows], t.covs[rows] = self.kf.update(t.means[rows], t.covs[rows],
                                                     self.kf.measure(boxes), innovation)

    def apply_camera_motion(self, affine: np.ndarray) -> None:
        """Move the predicted track states into the current frame's pixel coordinates."""
        t = self.tracks
        t.means, t.covs = warp_states(t.means, t.covs, affine, self.kf.box_state)

    def update(self, detections: DetectionBatch, now: float,
               low_score: DetectionBatch | None = None) -> None:
        """Associate this frame's detections, update, create and delete tracks."""
        for batch in (detections, low_score):
            if batch is not None and batch.measurements is None:
                batch.measurements = self.kf.measure(batch.boxes)
        # Projection of every predicted track, shared by gating and the Kalman updates.
        innovation = self.kf.innovation(self.tracks.means, self.tracks.covs)
        if self.config.cascade_cost == 'appearance':
            associated = self._associate_paper(detections, innovation)
        else:
            associated = self._associate(detections, innovation)
        rows, cols, unmatched_rows, unmatched_cols = associated
        self._correct(rows, detections.subset(cols), now, innovation, store_features=True)
        if low_score is not None and len(low_score) and len(unmatched_rows):
            candidates = unmatched_rows
            if not self.config.low_score_confirms:
                candidates = candidates[self.tracks.states[candidates] == CONFIRMED]
            cost = self._iou_cost(candidates, low_score)
            r, c, _, _ = min_cost_matching(cost, self.config.low_score_iou_distance)
            self._correct(candidates[r], low_score.subset(c), now, innovation,
                          store_features=False)
        if self.config.relink_lost:
            self._relink(rows, innovation)
        if len(unmatched_cols):
            self._initiate(detections.subset(unmatched_cols), now)
        self._delete_expired(now)

    def _associate(self, dets: DetectionBatch, innovation: Innovation):
        """IoU-first matching of confirmed, then of tentative tracks (matched and unmatched)."""
        t, cfg = self.tracks, self.config
        confirmed = np.flatnonzero(self._associable())
        r, c, missed, free_cols = min_cost_matching(self._first_stage_cost(confirmed, dets),
                                                    cfg.max_iou_distance)
        rows, unmatched = confirmed[r], confirmed[missed]
        return self._iou_stage(rows, c, unmatched, np.flatnonzero(t.states == TENTATIVE),
                               dets, free_cols)

    def _first_stage_cost(self, rows: np.ndarray, dets: DetectionBatch) -> np.ndarray:
        """(len(rows), N) IoU distance, lowered where appearance singles a pair out; inf = never."""
        cfg = self.config
        distance = self._iou_cost(rows, dets)
        if not (cfg.use_appearance and dets.features is not None and len(rows)):
            return distance
        candidates = distance <= cfg.max_iou_distance
        r, c = np.nonzero(candidates)
        cosine = self._appearance_cost(rows, dets.features, candidates, r, c)
        iou_distance = distance[r, c]
        weight = appearance_weight(r, c, cosine, distance.shape, cfg.appearance_margin)
        usable = cosine <= cfg.max_cosine_distance
        cost = weighted_cost(iou_distance, cosine, np.where(usable, weight, 0.0))
        distance[r, c] = cost
        return distance

    def _associate_paper(self, dets: DetectionBatch, innovation: Innovation):
        """Cascade then IoU matching; returns matched rows/cols and the unmatched of each."""
        t = self.tracks
        confirmed = np.flatnonzero(self._associable())
        r, c, cost, max_distance = self._cascade_pairs(confirmed, dets, innovation)
        r, c, missed, free_cols = sparse_matching_cascade(
            r, c, cost, max_distance, t.frames_since_update[confirmed], (len(confirmed), len(dets)))
        rows, missed = confirmed[r], confirmed[missed]
        just_missed = t.frames_since_update[missed] == 1
        iou_rows = np.concatenate([np.flatnonzero(t.states == TENTATIVE), missed[just_missed]])
        return self._iou_stage(rows, c, missed[~just_missed], iou_rows, dets, free_cols)

    def _iou_stage(self, rows, cols, unmatched, iou_rows, dets: DetectionBatch, free_cols):
        """Match iou_rows to the still-free detections by IoU; append to the earlier stage's result."""
        if len(iou_rows) and len(free_cols):
            r, c, missed, free_cols = min_cost_matching(
                self._iou_cost(iou_rows, dets), self.config.max_iou_distance, cols=free_cols)
            rows, cols = np.concatenate([rows, iou_rows[r]]), np.concatenate([cols, c])
            iou_rows = iou_rows[missed]
        return rows, cols, np.concatenate([unmatched, iou_rows]), free_cols

    def _associable(self) -> np.ndarray:
        """Confirmed tracks the cascade may match (not those kept only for relinking)."""
        t = self.tracks
        confirmed = t.states == CONFIRMED
        if self.config.relink_lost and self.config.relink_max_age > self.config.max_age:
            # Without relinking, a track is deleted after its (max_age + 1)-th missed frame.
            confirmed &= t.frames_since_update <= self.config.max_age + 1
        return confirmed

    def _cascade_pairs(self, rows: np.ndarray, dets: DetectionBatch, innovation: Innovation):
        """Cascade costs of the gated pairs and their acceptance threshold.

        Returns (r, c, cost, max_distance): pair i is track rows[r[i]] with detection c[i];
        pairs outside the motion gate (or across classes) cost inf and are left out. Only gated
        pairs can match, so the appearance and IoU costs are computed for those pairs alone.
        """
        cfg = self.config
        if len(rows) == len(self.tracks):
            innovation_rows = innovation  # rows are then all tracks in order: no copies
        else:
            innovation_rows = innovation.rows(rows)
        mahalanobis = squared_mahalanobis(*innovation_rows, dets.measurements)
        gate = mahalanobis <= cfg.gating_threshold
        if cfg.class_aware:
            gate &= self._same_class(rows, dets.class_ids)
        r, c = np.nonzero(gate)
        if not (cfg.use_appearance and dets.features is not None):
            return r, c, mahalanobis[r, c], cfg.gating_threshold
        return r, c, self._appearance_cost(rows, dets.features, gate, r, c), cfg.max_cosine_distance

    def _appearance_cost(self, rows: np.ndarray, features: np.ndarray, gate: np.ndarray,
                         r: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Smallest cosine distance (float64) of the gated pairs (rows[r], c) (np.nonzero(gate)).

        A pair that is the only gated one of both its track and its detection is matched iff
        its cost is within max_cosine_distance, whatever the exact value. When the distance to
        the track's newest sample (an upper bound) is already within it, that value stands in
        for the full gallery scan: same assignment, a fraction of the memory traffic.
        """
        gallery = self.tracks.gallery
        alone = ((np.bincount(r, minlength=gate.shape[0])[r] == 1)
                 & (np.bincount(c, minlength=gate.shape[1])[c] == 1))
        cosine = np.full(len(r), np.inf)
        cosine[alone] = gallery.newest_cosine_distance(rows[r[alone]], features[c[alone]])
        rest = ~(cosine <= self.config.max_cosine_distance)
        if rest.any():
            r, c = r[rest], c[rest]
            candidates = np.zeros(gate.shape, dtype=bool)
            candidates[r, c] = True
            cosine[rest] = gallery.min_cosine_distance(rows, features, candidates)[r, c]
        return cosine

    def _iou_cost(self, rows: np.ndarray, dets: DetectionBatch) -> np.ndarray:
        """1 - IoU between predicted track boxes and detections (inf across classes)."""
        overlap = iou(self.kf.boxes(self.tracks.means[rows]), dets.boxes)
        return np.where(self._same_class(rows, dets.class_ids), 1.0 - overlap, np.inf)

    def _same_class(self, rows: np.ndarray, class_ids: np.ndarray) -> np.ndarray:
        """(len(rows), N) True where a track may take something of class_ids[j] (class_aware)."""
        if not self.config.class_aware:
            return np.ones((len(rows), len(class_ids)), dtype=bool)
        return self.tracks.class_ids[rows, None] == class_ids[None, :]

    def _correct(self, rows: np.ndarray, dets: DetectionBatch, now: float,
                 innovation: Innovation, store_features: bool) -> None:
        """Kalman-update matched tracks with their detections and record the hit."""
        t = self.tracks
        t.means[rows], t.covs[rows] = self.kf.update(t.means[rows], t.covs[rows], dets.measurements,
                                                     innovation.rows(rows))
        t.mark_hit(rows, dets.scores, dets.class_ids, now, dets.indices, self.config.n_init)
        if store_features and dets.features is not None:
            t.gallery.append(rows, dets.features)

    def _relink(self, matched: np.ndarray, innovation: Innovation) -> None:
        """Give tracks confirmed this frame the id of a lost track they continue (relink.py)."""
        t, cfg = self.tracks, self.config
        # Promoted this frame: confirmed with exactly n_init hits, all consecutive.
        new = matched[(t.states[matched] == CONFIRMED) & (t.hits[matched] == cfg.n_init)
                      & (t.age[matched] == cfg.n_init)]
        if len(new) == 0 or cfg.n_init <= 1 or t.gallery.dim is None:
            return
        lost = np.flatnonzero((t.states == CONFIRMED) & (t.frames_since_update > 0))
        if len(lost) == 0:
            return
        old, young = relink_pairs(t.gallery, innovation, lost, new, t.means[new, :4],
                                  t.gallery.newest(new), self._same_class(lost, t.class_ids[new]),
                                  cfg.relink_max_cosine_distance, cfg.relink_margin)
        if len(old):
            t.ids[young] = t.ids[old]
            keep = np.ones(len(t), dtype=bool)
            keep[old] = False
            t.keep(keep)

    def _initiate(self, dets: DetectionBatch, now: float) -> None:
        """Start a track for each unmatched detection."""
        n = len(dets)
        if n == 0:
            return
        means, covs = self.kf.initiate(dets.measurements)
        ids = np.arange(self._next_id, self._next_id + n)
        self._next_id += n
        self.tracks.add(ids, means, covs, dets.class_ids, dets.scores, now, dets.indices,
                        confirmed=self.config.n_init <= 1, features=dets.features)

    def _delete_expired(self, now: float) -> None:
        """Remove tentative tracks that missed and tracks unmatched for too long."""
        cfg = self.config
        max_age = max(cfg.max_age, cfg.relink_max_age) if cfg.relink_lost else cfg.max_age
        dead = self.tracks.expired(max_age, cfg.max_age_s, now)
        if dead.any():
            self.tracks.keep(~dead)


