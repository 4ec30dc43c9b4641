"""DeepSort: the per-frame entry point used by the ROS node, the MOT tools and the benchmarks.

It validates the inputs, keeps the clock (time-based prediction, reset when time runs
backwards), computes embeddings when needed, compensates camera motion, runs the tracker and
reports every live track.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from .box_validation import as_arrays, rejections
from .camera_motion import CameraMotionEstimator, MotionFrame
from .config import TrackerConfig
from .detection import DetectionBatch
from .nn_matching import normalize
from .track import CONFIRMED, TENTATIVE, TrackState
from .tracker import MIN_SIZE, Tracker

LOGGER = logging.getLogger(__name__)

#: Counters in DeepSort.stats.
STATS_KEYS = ('frames', 'detections', 'rejected_nonfinite', 'rejected_size', 'rejected_outside',
              'resets', 'camera_motion_failures', 'coasted_frames')

#: TrackState members indexed by their value.
_STATES = np.array(list(TrackState), dtype=object)


@dataclass(slots=True)
class TrackOutput:
    """One live track after a frame's update."""

    track_id: int
    class_id: int
    score: float  # score of the last matched detection
    box: np.ndarray  # (4,) x1, y1, x2, y2 of the filtered (or, when lost, predicted) state
    velocity: tuple[float, float]  # box-centre velocity in pixels per second
    state: TrackState  # LOST: confirmed, not matched this frame
    age: int  # frames since the track was created (1 on its first frame)
    hits: int  # frames with a matched detection
    time_since_update: float  # seconds since the last matched detection
    detection_index: int  # row of the matched input detection this frame, -1 if none
    predicted: bool = False  # from coast(): no detections for this frame, box is the prediction


def build_embedder(config: TrackerConfig):
    """The configured appearance embedder; None for motion-only tracking (torch not imported)."""
    if not config.use_appearance or config.embedder == 'none':
        return None
    from .reid.embedders import create_embedder  # torch only when a network embedder is used
    return create_embedder(config.embedder, weights=config.embedder_weights or None,
                           device=config.device)


def confirmed_tracks(tracks) -> list[TrackOutput]:
    """The tracks every output shows (MOT results, tracks/detections, drawings): confirmed and
    matched to a detection this frame, the reference DeepSORT's output rule."""
    return [t for t in tracks if t.state is TrackState.CONFIRMED]


class DeepSort:
    """DeepSORT with the configured extensions; one object per camera stream.

    Track ids are never reused within one DeepSort object: they keep increasing across the
    automatic reset on a backwards time jump and across reset(), unless reset(restart_ids=True).
    """

    def __init__(self, config: TrackerConfig | None = None, embedder=None):
        self.config = config if config is not None else TrackerConfig()
        self.embedder = embedder
        self.tracker = Tracker(self.config)
        self.camera = (CameraMotionEstimator(self.config.camera_motion_width)
                       if self.config.camera_motion else None)
        self.stats = dict.fromkeys(STATS_KEYS, 0)
        self._last_time: float | None = None
        self._coasted = 0  # coast() frames since the last update()

    @property
    def needs_image(self) -> bool:
        """Whether update() makes use of the image when no embeddings are passed."""
        if self.config.camera_motion:
            return True
        if not self.config.use_appearance:
            return False
        if self.embedder is not None:
            return bool(self.embedder.needs_image)
        return self.config.embedder != 'none'

    def reset(self, restart_ids: bool = False) -> None:
        """Forget all tracks, galleries, the clock and the previous frame (stats are kept)."""
        self.tracker.reset(restart_ids=restart_ids)
        if self.camera is not None:
            self.camera.reset()
        self._last_time = None
        self._coasted = 0

    def update(self, boxes_xyxy, scores, class_ids, timestamp: float | None = None,
               image: np.ndarray | None = None, embeddings=None, masks=None, mask_origins=None,
               image_size: tuple[int, int] | None = None,
               motion_frame: MotionFrame | None = None) -> list[TrackOutput]:
        """Track one frame and return every live track.

        boxes_xyxy (N, 4) pixels; scores (N,); class_ids (N,); timestamp in seconds (None =
        one nominal frame after the previous one); image HxWx3 uint8 RGB (for the embedder,
        camera motion and the image size); embeddings (N, D) precomputed appearance features;
        masks / mask_origins: bool windows and their (x0, y0); image_size (w, h) when no image
        is given, to reject boxes outside it; motion_frame: prepare_motion(image) done ahead
        (same results, less work here). Raises ValueError on malformed arrays; bad rows
        (NaN, empty, off-image) are dropped with a warning and counted in `stats`.
        """
        cfg = self.config
        boxes, scores, class_ids, embeddings, masks, mask_origins = as_arrays(
            boxes_xyxy, scores, class_ids, embeddings, masks, mask_origins)
        if image is not None and image_size is None:
            image_size = (image.shape[1], image.shape[0])
        now, steps = self._advance_clock(timestamp)
        self._coasted = 0
        valid = self._valid_rows(boxes, scores, embeddings, image_size)

        high = valid & (scores >= cfg.min_score)
        low = valid & ~high & (scores >= cfg.low_score_threshold)
        features = None  # without features (or with 0-d ones) the cascade runs on motion
        if cfg.use_appearance and embeddings is not None and embeddings.shape[1] > 0:
            features = normalize(embeddings if high.all() else embeddings[high])
        elif cfg.use_appearance and embeddings is None and image is not None and high.any():
            features = self._embed(image, boxes[high])
        inputs = (boxes, scores, class_ids, masks, mask_origins)
        high_score = _detections(high, *inputs, features=features)
        low_score = _detections(low, *inputs) if cfg.low_score_pass and low.any() else None

        self.tracker.predict(steps)
        if self.camera is not None and (image is not None or motion_frame is not None):
            self._compensate_camera_motion(image if motion_frame is None else motion_frame,
                                           boxes[valid])
        self.tracker.update(high_score, now, low_score)
        return self._outputs(now)

    def coast(self, timestamp: float | None = None) -> list[TrackOutput]:
        """Confirmed tracks predicted to a frame the detector gave nothing for; state unchanged.

        For a detector that is down: the boxes are the Kalman prediction from the last update()
        (``predicted`` True, state LOST), reported while frames without a match (coasted ones
        included) stay within max_age (and max_age_s). Nothing is updated, so coasting neither
        ages tracks towards deletion nor moves them: the next update() predicts over the whole
        gap and counts it as one missed frame, as if these frames had never come, and may even
        carry an older stamp than a coasted one (a slow detector's late answer). timestamp in
        seconds (None = one nominal frame after the previous coasted or tracked one).
        """
        cfg = self.config
        if self._last_time is None:
            return []
        coasted = self._coasted + 1
        if timestamp is None or not cfg.time_based:
            now, steps = self._last_time + coasted * cfg.nominal_dt, float(coasted)
        else:
            now = float(timestamp)
            steps = (now - self._last_time) / cfg.nominal_dt
            if not math.isfinite(now) or steps < 0.0:
                return []  # older than the last tracked frame: nothing to predict forward to
        self._coasted = coasted
        self.stats['coasted_frames'] += 1
        t = self.tracker.tracks
        missed = t.frames_since_update + self._coasted
        keep = (t.states == CONFIRMED) & (missed <= cfg.max_age)
        if cfg.max_age_s > 0.0:
            keep &= now - t.last_update_time <= cfg.max_age_s
        rows = np.flatnonzero(keep)
        means, _ = self.tracker.kf.predict(t.means[rows], t.covs[rows], steps)
        np.maximum(means[:, 2:4], MIN_SIZE, out=means[:, 2:4])  # as Tracker.predict
        boxes = self.tracker.kf.boxes(means)
        velocities = (means[:, 4:6] / cfg.nominal_dt).tolist()
        return [TrackOutput(int(t.ids[r]), int(t.class_ids[r]), float(t.scores[r]), box,
                            tuple(v), TrackState.LOST, int(t.age[r] + self._coasted),
                            int(t.hits[r]), max(now - float(t.last_update_time[r]), 0.0), -1,
                            predicted=True)
                for r, box, v in zip(rows, boxes, velocities)]

    def prepare_motion(self, image: np.ndarray) -> MotionFrame | None:
        """Image-only camera-motion work of a later update(motion_frame=...); None when off."""
        return None if self.camera is None else self.camera.prepare(image)

    def precompute_motion(self, frame: MotionFrame | None = None) -> None:
        """Idle-time work for the next update(): the last frame's corners, the motion to `frame`.

        A node calls it between frames; results stay identical to doing it all in update().
        """
        if self.camera is not None:
            self.camera.settle()
            if frame is not None:
                self.camera.motion_to(frame)

    def _advance_clock(self, timestamp: float | None) -> tuple[float, float]:
        """(current time, prediction steps in nominal frames); resets when time goes back."""
        cfg = self.config
        self.stats['frames'] += 1
        if timestamp is None:
            now = 0.0 if self._last_time is None else self._last_time + cfg.nominal_dt
        else:
            now = float(timestamp)
            if not math.isfinite(now):
                raise ValueError(f'timestamp must be a finite number of seconds, got {timestamp}')
        steps = 1.0
        if self._last_time is not None and now < self._last_time:
            LOGGER.warning('time went backwards by %.3f s (bag looped or clock reset): '
                           'resetting the tracker; track ids keep increasing',
                           self._last_time - now)
            self.stats['resets'] += 1
            self.reset()
        elif self._last_time is not None and cfg.time_based:
            steps = (now - self._last_time) / cfg.nominal_dt
        self._last_time = now
        return now, steps

    def _valid_rows(self, boxes, scores, embeddings, image_size) -> np.ndarray:
        """Boolean mask of usable detections; counts and logs the rejected ones."""
        self.stats['detections'] += len(boxes)
        reasons = rejections(boxes, scores, embeddings, image_size)
        rejected = reasons['nonfinite'] | reasons['size'] | reasons['outside']
        if rejected.any():
            counts = {name: int(mask.sum()) for name, mask in reasons.items()}
            for name, count in counts.items():
                self.stats['rejected_' + name] += count
            LOGGER.warning('rejected %d of %d detections (%s)', int(rejected.sum()), len(boxes),
                           ', '.join(f'{count} {name}' for name, count in counts.items()
                                     if count))
        return ~rejected

    def _embed(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray | None:
        """Appearance features of `boxes` from the embedder (built from the config on first use)."""
        if self.embedder is None:
            self.embedder = build_embedder(self.config)  # on first use
            if self.embedder is None:
                return None
        features = np.asarray(self.embedder.embed(image, boxes), dtype=np.float32)
        if features.ndim != 2 or len(features) != len(boxes):
            raise ValueError(f'embedder {type(self.embedder).__name__} returned shape '
                             f'{features.shape} for {len(boxes)} boxes; expected (N, D)')
        return normalize(features) if features.shape[1] > 0 else None

    def _compensate_camera_motion(self, image: np.ndarray | MotionFrame,
                                  object_boxes: np.ndarray) -> None:
        """Estimate the image motion since the last frame and warp the predicted tracks."""
        had_previous = self.camera.ready
        affine = self.camera.estimate(image, object_boxes)
        if affine is not None:
            self.tracker.apply_camera_motion(affine)
        elif had_previous:
            self.stats['camera_motion_failures'] += 1

    def _outputs(self, now: float) -> list[TrackOutput]:
        """TrackOutput for every live track within max_age, in creation order."""
        t = self.tracker.tracks
        if self.config.relink_lost and (t.frames_since_update > self.config.max_age).any():
            # Tracks kept past max_age only as relinking candidates are not reported.
            t = t.reported(self.config.max_age)
        boxes = self.tracker.kf.boxes(t.means)
        velocities = map(tuple, (t.means[:, 4:6] / self.config.nominal_dt).tolist())
        since = np.maximum(now - t.last_update_time, 0.0).tolist()
        # Column-wise lists and map() instead of a per-track Python loop: this runs every frame.
        codes = np.where(t.states == TENTATIVE, TENTATIVE,
                         np.where(t.frames_since_update == 0, CONFIRMED, int(TrackState.LOST)))
        states = _STATES[codes]
        return list(map(TrackOutput, t.ids.tolist(), t.class_ids.tolist(), t.scores.tolist(),
                        boxes, velocities, states.tolist(), t.age.tolist(), t.hits.tolist(),
                        since, t.detection_index.tolist()))


def _detections(rows: np.ndarray, boxes, scores, class_ids, masks, mask_origins,
                features=None) -> DetectionBatch:
    """The input detections at boolean `rows` as a batch remembering their input indices."""
    if rows.all():  # the usual frame: no copies (the tracker keeps no view of these arrays)
        return DetectionBatch(boxes, scores, class_ids, np.arange(len(rows)), features=features,
                              masks=masks,
                              mask_origins=None if mask_origins is None else mask_origins.copy())
    indices = np.flatnonzero(rows)
    return DetectionBatch(boxes[indices], scores[indices], class_ids[indices], indices,
                          features=features,
                          masks=None if masks is None else [masks[i] for i in indices],
                          mask_origins=None if mask_origins is None else mask_origins[indices])
