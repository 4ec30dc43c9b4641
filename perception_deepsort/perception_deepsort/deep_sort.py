"""DeepSort: one tracking step, for a frame with detections (update) or without (propagate).

It validates the inputs, keeps the clock (time-based prediction, reset when time runs
backwards), computes embeddings when needed, applies the camera motion it is given, runs the
tracker and reports every live track. Its whole state can be saved and restored (state /
restore), which frame_tracker.FrameTracker, the per-frame engine of the node, the tools and the
benchmarks, uses to fuse late detections at their own stamp.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .box_validation import as_arrays, rejections
from .config import TrackerConfig
from .detection import DetectionBatch
from .nn_matching import normalize
from .track import CONFIRMED, TENTATIVE, TrackSet, TrackState
from .tracker import Tracker

LOGGER = logging.getLogger(__name__)

#: Counters in DeepSort.stats.
STATS_KEYS = ('frames', 'detections', 'rejected_nonfinite', 'rejected_size', 'rejected_outside',
              'resets')

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
    predicted: bool = False  # from propagate(): no detections for this frame, the box followed
    mask: tuple | None = None  # (bool window, origin (x0, y0)) in this frame, set by FrameTracker


class TrackerState(NamedTuple):
    """Everything DeepSort.restore() needs to continue from a saved point (ids excepted)."""

    tracks: TrackSet
    last_time: float | None


def build_embedder(config: TrackerConfig):
    """The configured appearance embedder; None for motion-only tracking (torch not imported)."""
    if not config.use_appearance or config.embedder == 'none':
        return None
    from .reid.embedders import create_embedder  # torch only when a network embedder is used
    return create_embedder(config.embedder, weights=config.embedder_weights or None,
                           device=config.device)


def confirmed_tracks(tracks) -> list[TrackOutput]:
    """The tracks every output shows (MOT results, tracks/detections, drawings): those in state
    CONFIRMED, i.e. matched to a detection this frame (the reference DeepSORT's output rule),
    missed by the detector for at most output_lost_s away from the image border, or, on a frame
    without detections, matched at the last detection frame within max_predicted_s."""
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
        self.stats = dict.fromkeys(STATS_KEYS, 0)
        self._last_time: float | None = None
        self._image_size: tuple[int, int] | None = None  # (w, h) of the stream, once known

    @property
    def needs_image(self) -> bool:
        """Whether update() makes use of the image when no embeddings are passed (appearance)."""
        if not self.config.use_appearance:
            return False
        if self.embedder is not None:
            return bool(self.embedder.needs_image)
        return self.config.embedder != 'none'

    def reset(self, restart_ids: bool = False) -> None:
        """Forget all tracks, galleries and the clock (stats are kept)."""
        self.tracker.reset(restart_ids=restart_ids)
        self._last_time = None

    def state(self) -> TrackerState:
        """A copy of the tracks and the clock, for restore()."""
        return TrackerState(self.tracker.tracks.copy(), self._last_time)

    def restore(self, state: TrackerState) -> None:
        """Continue from a state() (track ids keep increasing: none is handed out twice)."""
        self.tracker.tracks = state.tracks.copy()
        self._last_time = state.last_time

    def update(self, boxes_xyxy, scores, class_ids, timestamp: float | None = None,
               image: np.ndarray | None = None, embeddings=None, masks=None, mask_origins=None,
               image_size: tuple[int, int] | None = None,
               camera_affine: np.ndarray | None = None) -> list[TrackOutput]:
        """Track one frame with its detections and return every live track.

        boxes_xyxy (N, 4) pixels; scores (N,); class_ids (N,); timestamp in seconds (None =
        one nominal frame after the previous one); image HxWx3 uint8 RGB (for the embedder and
        the image size); embeddings (N, D) precomputed appearance features; masks /
        mask_origins: bool windows and their (x0, y0); image_size (w, h) when no image is
        given, to reject boxes outside it; camera_affine (2, 3): the image motion since the
        previous frame (camera_motion.CameraMotionEstimator). Raises ValueError on malformed
        arrays; bad rows (NaN, empty, off-image) are dropped with a warning and counted in
        `stats`.
        """
        cfg = self.config
        boxes, scores, class_ids, embeddings, masks, mask_origins = as_arrays(
            boxes_xyxy, scores, class_ids, embeddings, masks, mask_origins)
        if image is not None and image_size is None:
            image_size = (image.shape[1], image.shape[0])
        self._image_size = image_size or self._image_size
        now, steps = self._advance_clock(timestamp)
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
        if camera_affine is not None:
            self.tracker.apply_camera_motion(camera_affine)
        self.tracker.update(high_score, now, low_score)
        return self._outputs(now)

    def propagate(self, timestamp: float | None = None, camera_affine: np.ndarray | None = None,
                  observed: tuple[np.ndarray, np.ndarray] | None = None,
                  image_size: tuple[int, int] | None = None) -> list[TrackOutput]:
        """Move every track to a frame the detector gave nothing for; outputs are ``predicted``.

        The Kalman prediction over the time since the previous frame, warped by camera_affine,
        then corrected by ``observed`` = (rows, boxes (R, 4)): where box flow (box_flow.py) found
        those tracks of followed() in this frame. Track life cycles do not advance: a frame the
        detector did not look at is no miss, so n_init and max_age count detection frames.
        image_size (w, h): the frame's, for the output rule at the border.
        """
        self._image_size = image_size or self._image_size
        now, steps = self._advance_clock(timestamp)
        self.tracker.predict(steps, missed=False)
        if camera_affine is not None:
            self.tracker.apply_camera_motion(camera_affine)
        if observed is not None and len(observed[0]):
            self.tracker.observe(observed[0], observed[1], self.config.box_flow_noise)
        return self._outputs(now, predicted=True)

    def followed(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows, boxes (R, 4)) of the tracks box flow follows into the next frame: those
        matched at their last detection frame, whose box is on the object."""
        t = self.tracker.tracks
        rows = np.flatnonzero(t.frames_since_update == 0)
        return rows, self.tracker.kf.boxes(t.means[rows])

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

    def _outputs(self, now: float, predicted: bool = False) -> list[TrackOutput]:
        """TrackOutput for every live track within max_age, in creation order."""
        cfg = self.config
        t = self.tracker.tracks
        if cfg.relink_lost and (t.frames_since_update > cfg.max_age).any():
            # Tracks kept past max_age only as relinking candidates are not reported.
            t = t.reported(cfg.max_age)
        boxes = self.tracker.kf.boxes(t.means)
        velocities = map(tuple, (t.means[:, 4:6] / cfg.nominal_dt).tolist())
        # Column-wise lists and map() instead of a per-track Python loop: this runs every frame.
        since = now - t.last_update_time
        shown = t.frames_since_update == 0
        if predicted:  # without detections a track is shown for max_predicted_s after its match
            shown &= since <= cfg.max_predicted_s
        if cfg.output_lost_s > 0.0:
            # A track the detector missed is still shown for output_lost_s (people are missed for
            # a frame or two all the time), unless its prediction reaches the image border: a
            # person walking out of view is gone, not missed.
            lost = (t.frames_since_update > 0) & (since <= cfg.output_lost_s + 1e-9)
            if self._image_size is not None:
                lost &= _inside(boxes, self._image_size)
            shown |= lost
        codes = np.where(t.states == TENTATIVE, TENTATIVE,
                         np.where(shown, CONFIRMED, int(TrackState.LOST)))
        states = _STATES[codes]
        return list(map(TrackOutput, t.ids.tolist(), t.class_ids.tolist(), t.scores.tolist(),
                        boxes, velocities, states.tolist(), t.age.tolist(), t.hits.tolist(),
                        np.maximum(since, 0.0).tolist(), t.detection_index.tolist(),
                        itertools.repeat(predicted)))


#: Slack (pixels) before a box counts as touching the image border.
BORDER = 1.0


def _inside(boxes: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """(T,) whether each xyxy box lies within the image (BORDER pixels of slack)."""
    w, h = image_size
    return ((boxes[:, 0] > BORDER) & (boxes[:, 1] > BORDER) & (boxes[:, 2] < w - BORDER)
            & (boxes[:, 3] < h - BORDER))


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
