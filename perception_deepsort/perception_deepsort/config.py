"""Tracker configuration: one documented dataclass, loadable from a ROS parameter file."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from perception_ros_glue.param_file import read_node_parameters

from .kalman_filter import BOX_STATES

LOGGER = logging.getLogger(__name__)

#: Chi-square 0.95 quantile for 4 degrees of freedom (the paper's gate on (u, v, a, h)).
CHI2INV95_4DOF = 9.4877

#: Choices of TrackerConfig.cascade_cost.
CASCADE_COSTS = ('appearance', 'adaptive')

#: Parameters every ROS node has; from_yaml/from_dict skip them silently.
ROS_STANDARD_KEYS = frozenset({'use_sim_time', 'qos_overrides'})


def _doc(default: Any, description: str) -> Any:
    """A dataclass field carrying its description in the metadata."""
    return field(default=default, metadata={'doc': description})


@dataclass
class TrackerConfig:
    """Every tunable of the DeepSORT tracker; TrackerConfig.paper() gives DeepSORT as published.

    Defaults are the best measured by benchmarks/bench_tracker.py on its tuning seeds
    (docs/BENCHMARKS.md, "Tracker"): IoU-first association of every confirmed track with
    appearance weighted by its margin over the alternatives (cascade_cost='adaptive'), a
    centre/width/height Kalman state (box_state='xywh'), time_based, camera_motion,
    low_score_pass, feature_ema=0.9, relink_lost, and lost tracks shown for 0.3 s
    (output_lost_s).
    Removed after measuring no gain on any group: the paper's lambda-fused cost, NSA Kalman,
    the crowded-crop appearance guard, the stale-track appearance veto, the cosine veto of
    overlapping pairs (appearance_veto_distance: within 1 ID switch on every group) and a
    separate IoU limit for the appearance term (appearance_iou_distance: same results).
    """

    # --- DeepSORT as published --------------------------------------------------------
    max_cosine_distance: float = _doc(
        0.2, 'Appearance gate: largest cosine distance between a detection and a track gallery '
             'that may still match in the cascade.')
    nn_budget: int = _doc(
        100, 'Appearance gallery size per track (feature_ema 0, the paper): the most recent '
             'nn_budget embeddings are kept. Unused when feature_ema > 0 (one averaged embedding).')
    max_iou_distance: float = _doc(
        0.5, 'IoU association gate: largest 1 - IoU accepted ("adaptive": for every track; '
             'paper: for tentative and just-missed tracks). Paper: 0.7.')
    max_age: int = _doc(
        30, 'A confirmed track is deleted after more than max_age processed frames without a '
            'match.')
    n_init: int = _doc(
        3, 'A new track is confirmed after n_init consecutive matched frames '
           '(1 = confirmed at once); a miss before that deletes it.')
    gating_threshold: float = _doc(
        CHI2INV95_4DOF, 'Motion gate: largest squared Mahalanobis distance between a detection and '
                        'the predicted track (chi-square 95% quantile for 4 dof).')
    std_weight_position: float = _doc(
        1.0 / 20, 'Kalman noise: position standard deviation as a fraction of the box height '
                  '(box_state xywh: of the width for the horizontal centre and the width).')
    std_weight_velocity: float = _doc(
        1.0 / 320, 'Kalman noise: velocity standard deviation (per nominal frame) as a fraction '
                   'of the box height (xywh: width for u and w). Paper: 1/160; half that keeps a coasting track on its '
                   'course through crossings (tuning seeds: fewer ID switches on every group).')
    box_state: str = _doc(
        'xywh', 'Kalman box state: "xywh" (BoT-SORT: centre, width, height; horizontal noise '
                'proportional to the width, vertical to the height) or "xyah" (paper: centre, '
                'aspect ratio, height; all noise proportional to the height).')
    use_appearance: bool = _doc(
        True, 'Match the cascade on appearance (cosine distance, gated by motion). False = '
              'motion only: the cascade uses the Mahalanobis distance.')
    # --- Extensions beyond the paper ----------------------------------------------------
    cascade_cost: str = _doc(
        'adaptive', 'Association. "appearance" (paper): matching cascade on the cosine distance '
                    'inside the Mahalanobis gate, then IoU for tentative and just-missed tracks. '
                    '"adaptive": every track by IoU distance (up to max_iou_distance), lowered '
                    'towards min(1 - IoU, cosine) by the weight clip(margin / '
                    'appearance_margin, 0, 1) of the pair\'s appearance margin over the other '
                    'candidates of its track and detection (appearance_weight.py).')
    appearance_margin: float = _doc(
        0.3, '"adaptive": cosine-distance margin over the runner-up candidates at which a '
             'pair\'s appearance gets its full weight (0 = always full weight, as BoT-SORT).')
    feature_ema: float = _doc(
        0.9, 'If > 0, each track keeps one exponential moving average of its embeddings '
             '(StrongSORT: feature = feature_ema * feature + (1 - feature_ema) * new) instead '
             'of the nn_budget gallery.')
    relink_lost: bool = _doc(
        True, 'When a new track is confirmed, give it the id of a lost confirmed track whose '
              'motion gate (on the box centre) contains it and whose appearance is within '
              'relink_max_cosine_distance (re-identification after a long occlusion); the lost '
              'track is deleted. Needs appearance and n_init > 1.')
    relink_max_cosine_distance: float = _doc(
        0.4, 'relink_lost: largest cosine distance between the new and the lost track\'s '
             'appearance.')
    relink_max_age: int = _doc(
        120, 'relink_lost: a lost confirmed track stays available for relinking (only) for up '
             'to this many frames without a match, even past max_age (reported as lost).')
    relink_margin: float = _doc(
        0.05, 'relink_lost: a relink needs the best lost candidate of the new track to be '
              'closer in appearance than its second-best gated candidate by at least this margin '
              '(a look-alike nearby makes the relink ambiguous). 0 = no margin test.')
    time_based: bool = _doc(
        True, 'Step the Kalman filter by the real time between frame timestamps (dropped frames, '
              'variable rates). False = one nominal step per frame, as in the paper.')
    nominal_dt: float = _doc(
        1.0 / 30, 'Nominal frame period in seconds: the noise model is defined per nominal frame, '
                  'and it is the step used when no timestamp is given.')
    max_age_s: float = _doc(
        0.0, 'If > 0, also delete a track that has not been matched for more than max_age_s '
             'seconds of timestamp time.')
    camera_motion: bool = _doc(
        True, 'Estimate the global image motion between consecutive frames (sparse optical flow) '
              'and warp the track states before association. Needs the image; no-op without it.')
    camera_motion_width: int = _doc(
        320, 'Width in pixels of the downscaled grey frame used for camera-motion estimation.')
    # --- Camera-rate tracking (frame_tracker.FrameTracker) ------------------------------------
    box_flow: bool = _doc(
        True, 'On camera frames without detections, follow each track matched at its last '
              'detection frame through the image (Median Flow, box_flow.py) and correct its '
              'Kalman state with the box found. False = Kalman prediction (and camera motion) '
              'only. Needs the image.')
    box_flow_width: int = _doc(
        640, 'Width in pixels of the downscaled grey frame box flow runs on.')
    box_flow_noise: float = _doc(
        2.0, 'Measurement noise of a box found by box flow, as a multiple of a detection\'s.')
    max_predicted_s: float = _doc(
        1.0, 'On frames without detections a confirmed track is shown (predicted: true) for at '
             'most this long after its last match [s, stamp time]; then it is LOST (and still '
             'matched when detections return, within max_age detection frames).')
    fusion_frames: int = _doc(
        30, 'Camera frames kept to fuse late detections at their own stamp; detections older '
            'than the oldest kept frame are dropped and counted (detections_too_late).')
    min_score: float = _doc(
        0.5, 'Detections scoring at least min_score are associated normally and may start tracks.')
    output_lost_s: float = _doc(
        0.3, 'A confirmed track the detector missed is still shown (state CONFIRMED, its predicted '
             'box) for up to this many seconds after its last match, unless the prediction touches '
             'the image border (0 = matched tracks only, the paper\'s rule).')
    low_score_pass: bool = _doc(
        True, 'Second association pass (ByteTrack): detections scoring in '
              '[low_score_threshold, min_score) only keep confirmed tracks alive by IoU.')
    low_score_confirms: bool = _doc(
        False, 'low_score_pass: tentative tracks take part too, and a low-score match counts '
               'towards n_init (a person whose score dips is confirmed all the same).')
    low_score_threshold: float = _doc(
        0.1, 'Detections below this score are ignored.')
    low_score_iou_distance: float = _doc(
        0.5, 'Largest 1 - IoU accepted in the low-score pass.')
    class_aware: bool = _doc(
        True, 'A track only ever matches detections of its own class.')
    embedder: str = _doc(
        'auto', 'Appearance embedder built when DeepSort gets no embedder and no embeddings '
                       '(perception_deepsort.reid.create_embedder name; "none" = no appearance).')
    embedder_weights: str = _doc(
        '', 'Weights file for the embedder ("" = the embedder\'s default).')
    device: str = _doc(
        'auto', 'Device for the embedder: auto | cpu | cuda | cuda:N.')

    def __post_init__(self) -> None:
        """Check types and ranges so a bad parameter fails at startup with its name."""
        for f in dataclasses.fields(self):
            setattr(self, f.name, _coerce(f.name, getattr(self, f.name), type(f.default)))
        _require(0.0 <= self.max_cosine_distance <= 2.0, 'max_cosine_distance', 'in [0, 2]')
        _require(self.nn_budget >= 1, 'nn_budget', '>= 1')
        _require(0.0 <= self.max_iou_distance <= 1.0, 'max_iou_distance', 'in [0, 1]')
        _require(self.box_state in BOX_STATES, 'box_state', 'one of ' + ', '.join(BOX_STATES))
        _require(self.cascade_cost in CASCADE_COSTS, 'cascade_cost',
                 'one of ' + ', '.join(CASCADE_COSTS))
        _require(self.appearance_margin >= 0.0, 'appearance_margin', '>= 0')
        _require(0.0 <= self.feature_ema < 1.0, 'feature_ema', 'in [0, 1)')
        _require(0.0 <= self.relink_max_cosine_distance <= 2.0, 'relink_max_cosine_distance',
                 'in [0, 2]')
        _require(self.relink_margin >= 0.0, 'relink_margin', '>= 0')
        _require(self.max_age >= 0, 'max_age', '>= 0')
        _require(self.relink_max_age >= 0, 'relink_max_age', '>= 0')
        _require(self.n_init >= 1, 'n_init', '>= 1')
        _require(self.gating_threshold > 0.0, 'gating_threshold', '> 0')
        _require(self.std_weight_position > 0.0, 'std_weight_position', '> 0')
        _require(self.std_weight_velocity > 0.0, 'std_weight_velocity', '> 0')
        _require(self.nominal_dt > 0.0, 'nominal_dt', '> 0')
        _require(self.max_age_s >= 0.0, 'max_age_s', '>= 0')
        _require(self.camera_motion_width >= 32, 'camera_motion_width', '>= 32')
        _require(self.box_flow_width >= 32, 'box_flow_width', '>= 32')
        _require(self.box_flow_noise > 0.0, 'box_flow_noise', '> 0')
        _require(self.max_predicted_s >= 0.0, 'max_predicted_s', '>= 0')
        _require(self.fusion_frames >= 1, 'fusion_frames', '>= 1')
        _require(self.low_score_threshold <= self.min_score, 'low_score_threshold',
                 '<= min_score')
        _require(0.0 <= self.low_score_iou_distance <= 1.0, 'low_score_iou_distance', 'in [0, 1]')
        _require(self.output_lost_s >= 0.0, 'output_lost_s', '>= 0')

    @classmethod
    def paper(cls, **changes: Any) -> 'TrackerConfig':
        """DeepSORT as published (Wojke et al. 2017): every extension off; changes on top."""
        base = dict(max_iou_distance=0.7, std_weight_velocity=1.0 / 160, box_state='xyah',
                    cascade_cost='appearance', feature_ema=0.0,
                    n_init=3, time_based=False, camera_motion=False, box_flow=False,
                    output_lost_s=0.0,
                    low_score_pass=False, class_aware=False, relink_lost=False)
        return cls(**{**base, **changes})

    @classmethod
    def field_docs(cls) -> dict[str, str]:
        """Map each field name to its description (for declaring ROS parameters)."""
        return {f.name: f.metadata['doc'] for f in dataclasses.fields(cls)}

    def to_dict(self) -> dict[str, Any]:
        """The configuration as a plain dict (field name -> value)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], ignore: Iterable[str] = ()) -> 'TrackerConfig':
        """Build from a mapping; unknown keys raise ValueError unless in ignore or ROS-standard."""
        known = {f.name for f in dataclasses.fields(cls)}
        skipped = set(ignore) | ROS_STANDARD_KEYS
        unknown = sorted(k for k in values if k not in known and k not in skipped)
        if unknown:
            raise ValueError(f'unknown tracker parameter(s): {", ".join(map(str, unknown))}; '
                             f'expected some of: {", ".join(sorted(known))}')
        return cls(**{k: v for k, v in values.items() if k in known})

    @classmethod
    def from_yaml(cls, path: str | Path, node_name: str = 'tracker_node',
                  ignore: Iterable[str] = ()) -> 'TrackerConfig':
        """Read `node_name: ros__parameters: {...}` (or `/**`, `/node_name`) or a flat mapping."""
        values = read_node_parameters(path, node_name, allow_flat=True)
        try:
            config = cls.from_dict(values, ignore=ignore)
        except ValueError as error:
            raise ValueError(f'{path}: {error}') from None
        if 'nn_budget' in values and config.feature_ema > 0.0:
            LOGGER.warning('%s: nn_budget is unused with feature_ema %g (one averaged embedding per '
                           'track); set feature_ema: 0.0 for a gallery', path, config.feature_ema)
        return config


def _coerce(name: str, value: Any, expected: type) -> Any:
    """Return value as the field's type (int -> float allowed) or raise ValueError naming it."""
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
        raise ValueError(f'tracker parameter {name!r} must be {expected.__name__}, '
                         f'got {value!r}')
    return value


def _require(condition: bool, name: str, what: str) -> None:
    """Raise ValueError naming the parameter when a range check fails."""
    if not condition:
        raise ValueError(f'tracker parameter {name!r} must be {what}')
