"""Generated sequences of people walking as pedestrians do, seen through a real detector's noise.

Motion, on a ground plane in metres and seconds, seen by a pinhole camera above the scene
(default: 7 m up, tilted 25 degrees down, like OpenCV's vtest.avi street scene): people walk
towards goals at preferred speeds of 1.25 +- 0.2 m/s (unhurried walking on a square), relax
towards them in half a second, avoid each other (a social-force repulsion), sway with their
steps, turn at waypoints, stop and wait (seconds to tens of seconds), walk in groups of 2-4
abreast, and enter and leave through the edges of the view. Poles and a kiosk hide them.

Detector: each person has a latent detection quality (a persistent per-person offset, box
size, visibility, and AR(1) noise over time); its logistic is the score, and a box is reported
when the score clears the detector's threshold, so misses come in runs and with occlusion.
Box errors grow with the box size and are correlated between frames; the box shrinks to the
visible part of an occluded person; some detections come with a duplicate or a box of a part
of the person, people walking close together sometimes get one box around both; clutter fires
false positives at fixed places for long stretches, and others flicker. The defaults were set
so that score histogram, frame-to-frame jitter and gap lengths match the people checkpoint's
detections on vtest.avi (benchmarks/walking_realism.py, docs/BENCHMARKS.md).
Same rendering and MOTChallenge layout as synthetic.py; deterministic given the seed.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field

import cv2
import numpy as np

from perception_deepsort.mot import synthetic

APPEARANCES = ('distinct', 'uniform')
OCCLUDER_LABEL = 255


@dataclass
class WalkingConfig:
    """Parameters of one walking sequence (camera, crowd, detector)."""

    width: int = 768
    height: int = 576
    frames: int = 300
    frame_rate: float = 10.0
    seed: int = 0
    #: 'distinct' (clothes from synthetic.py's palettes) or 'uniform' (flat grey frames).
    appearance: str = 'distinct'
    jpeg_quality: int = 85
    # --- camera and scene
    camera_height: float = 7.0  # metres
    tilt_deg: float = 25.0
    focal: float = 900.0  # pixels
    near: float = 7.0  # walkable depth range (metres along the ground)
    far: float = 26.0
    people: int = 7  # people arriving to keep about this many in view (more stay: they stop and wait)
    group_sizes: tuple = (0.55, 0.3, 0.1, 0.05)  # share of arrivals alone, in 2, 3, 4
    stop_rate: float = 1 / 25.0  # stops per second of walking
    stop_median_s: float = 6.0
    standing_share: float = 0.3  # arrivals that stand and wait a long time first
    poles: int = 2
    kiosks: int = 1
    # --- detector (defaults fitted to the people checkpoint on vtest.avi)
    score_threshold: float = 0.1  # boxes below are not reported
    quality_mean: float = 0.45  # logit of a typical person's score at 100 px
    quality_person_std: float = 0.3  # spread between people (clothes, pose)
    quality_size: float = 0.9  # logit gain per doubling of the box height over 100 px
    quality_visibility: float = 3.0  # logit lost from full to no visibility
    quality_noise: float = 0.35  # per-frame noise of the logit (AR(1))
    quality_corr_s: float = 0.4  # correlation time of that noise, seconds
    dropout_rate: float = 0.016  # per frame: the detector loses a visible person (pose, blur, clutter)
    dropout_stay: float = 0.55  # chance that a lost person stays lost the next frame
    dropout_logit: float = 3.5  # logit lost while lost
    jitter: float = 0.048  # box-centre error, fraction of the box size
    jitter_px: float = 0.4  # plus this many pixels
    jitter_size: float = 0.04  # log-size error
    jitter_corr_s: float = 0.15  # correlation time of the box error, seconds
    duplicate_rate: float = 0.03  # per detection: a second box on the same person
    part_rate: float = 0.03  # per detection: an extra box of the upper body
    merge_rate: float = 0.25  # per frame, for two people closer than their width: one box around both
    clutter: int = 4  # places that fire false positives for long stretches (rocks, signs, a blanket)
    clutter_quality: float = -1.8  # logit of a clutter place's typical score
    clutter_spread: float = 0.7  # spread of that logit between places
    flicker_per_frame: float = 1.2  # short-lived false positives per frame


@dataclass
class Walker:
    """One pedestrian on the ground plane."""

    pid: int
    pos: np.ndarray  # (x, z) metres
    vel: np.ndarray
    speed: float  # preferred, m/s
    goals: list  # remaining (x, z) goals; the last one is outside the view
    group: int
    offset: float  # lateral place in the group (metres, + = right of the heading)
    height_m: float
    quality: float  # persistent logit offset of the detector on this person
    look: synthetic.Person  # clothes and gait for drawing
    wait: float = 0.0  # seconds left standing
    noise: float = 0.0  # AR(1) state of the detection logit
    lost: bool = False  # in a run of frames the detector does not see this person
    box_error: np.ndarray = field(default_factory=lambda: np.zeros(4))


class WalkingGenerator:
    """Simulates, renders and detects one walking sequence (synthetic.write_sequence's API)."""

    def __init__(self, cfg: WalkingConfig):
        if cfg.appearance not in APPEARANCES:
            raise ValueError(f'appearance must be one of {APPEARANCES}, got {cfg.appearance!r}')
        self.cfg = cfg
        self.rng = np.random.default_rng(cfg.seed)
        self.dt = 1.0 / cfg.frame_rate
        tilt = np.radians(cfg.tilt_deg)
        self.forward = np.array([0.0, -np.sin(tilt), np.cos(tilt)])
        self.down = np.array([0.0, -np.cos(tilt), -np.sin(tilt)])
        # The street backdrop with its horizon near the top: a camera looking down on a square.
        world_h = int(1.52 * cfg.height)
        self.background = synthetic._make_background(None, self.rng, cfg.width, world_h)[-cfg.height:].copy()
        self.noise = [self.rng.normal(0, 4, (cfg.height, cfg.width, 3)).astype(np.int16) for _ in range(4)]
        self.occluders = self._place_occluders()
        self.clutter = [self._clutter_place() for _ in range(cfg.clutter)]
        self.walkers: list[Walker] = []
        self.next_id, self.next_group = 1, 1
        self.arrival_rate = self._arrival_rate()
        while len(self.walkers) < cfg.people:
            self._arrive(inside=True)
        self.last_truth = None

    # ------------------------------------------------------------------ geometry
    def project(self, x, z, y=0.0):
        """Image (u, v) of ground-plane points (x, z) at height y metres (arrays)."""
        rel = np.stack(np.broadcast_arrays(x, np.asarray(y, float) - self.cfg.camera_height, z), axis=-1)
        depth = rel @ self.forward
        u = self.cfg.width / 2 + self.cfg.focal * rel[..., 0] / depth
        v = self.cfg.height / 2 + self.cfg.focal * (rel @ self.down) / depth
        return u, v

    def half_width(self, z: float) -> float:
        """Half the visible width of the ground (metres) at depth z."""
        u, _ = self.project(1.0, z)
        return (self.cfg.width / 2) / (u - self.cfg.width / 2)

    def amodal_box(self, w: Walker) -> np.ndarray:
        """Full person box x1, y1, x2, y2 in the image (not clipped)."""
        u, foot = self.project(w.pos[0], w.pos[1])
        _, head = self.project(w.pos[0], w.pos[1], w.height_m)
        h = foot - head
        return np.array([u - 0.205 * h, head, u + 0.205 * h, foot])

    def _place_occluders(self):
        """Poles and kiosks: (x, z, width m, height m) on the ground inside the view."""
        cfg, rng, out = self.cfg, self.rng, []
        for kind, n in (('pole', cfg.poles), ('kiosk', cfg.kiosks)):
            for _ in range(n):
                z = rng.uniform(cfg.near + 2, cfg.far - 4)
                x = rng.uniform(-0.8, 0.8) * self.half_width(z)
                out.append((x, z, 0.25, 4.5) if kind == 'pole' else (x, z, rng.uniform(1.2, 2.0), 2.3))
        return out

    def _clutter_place(self):
        """A place the detector mistakes for a person: (box, persistent logit, AR state)."""
        cfg, rng = self.cfg, self.rng
        z = rng.uniform(cfg.near + 1, cfg.far)
        x = rng.uniform(-0.9, 0.9) * self.half_width(z)
        u, foot = self.project(x, z)
        _, head = self.project(x, z, rng.uniform(0.7, 1.8))
        h = foot - head
        box = np.array([u - 0.2 * h * rng.uniform(0.8, 1.6), head, u + 0.2 * h * rng.uniform(0.8, 1.6), foot])
        return [box, cfg.clutter_quality + rng.normal(0, cfg.clutter_spread), 0.0]

    # ------------------------------------------------------------------ crowd
    def _arrival_rate(self) -> float:
        """Groups arriving per second that keep about cfg.people in view."""
        cfg = self.cfg
        crossing = 2 * self.half_width((cfg.near + cfg.far) / 2) / 1.34  # seconds in view
        mean_group = sum((i + 1) * p for i, p in enumerate(cfg.group_sizes))
        return cfg.people / (crossing * mean_group * (1 + cfg.standing_share * 2))

    def _edge_point(self, margin: float) -> np.ndarray:
        """A point just outside the view: left, right or far edge (near edge: below the image)."""
        cfg, rng = self.cfg, self.rng
        side = rng.choice(4, p=[0.25, 0.25, 0.25, 0.25])
        if side < 2:
            z = rng.uniform(cfg.near, cfg.far)
            return np.array([(1 if side else -1) * (self.half_width(z) + margin), z])
        z = cfg.far + margin if side == 2 else cfg.near - margin
        return np.array([rng.uniform(-0.8, 0.8) * self.half_width(z), z])

    def _inside_point(self) -> np.ndarray:
        """A random point in the walkable area."""
        cfg, rng = self.cfg, self.rng
        z = rng.uniform(cfg.near + 0.5, cfg.far - 0.5)
        return np.array([rng.uniform(-0.85, 0.85) * self.half_width(z), z])

    def _arrive(self, inside: bool = False) -> None:
        """A group (or a person alone) entering the view, or already inside at the start."""
        cfg, rng = self.cfg, self.rng
        size = 1 + rng.choice(len(cfg.group_sizes), p=cfg.group_sizes)
        start = self._inside_point() if inside else self._edge_point(1.0)
        exit_point = self._edge_point(1.5)
        while np.linalg.norm(exit_point - start) < 5.0:
            exit_point = self._edge_point(1.5)
        goals = [self._inside_point() for _ in range(rng.choice(3, p=[0.6, 0.3, 0.1]))] + [exit_point]
        speed = float(np.clip(rng.normal(1.25, 0.2), 0.7, 2.0)) * (0.9 if size > 1 else 1.0)
        wait = rng.lognormal(np.log(15), 0.6) if rng.random() < cfg.standing_share else 0.0
        heading = goals[0] - start
        heading /= max(np.linalg.norm(heading), 1e-6)
        spacing = rng.uniform(0.55, 0.8)
        group = self.next_group
        self.next_group += 1
        for k in range(size):
            offset = (k - (size - 1) / 2) * spacing
            side = np.array([heading[1], -heading[0]])
            look = synthetic._random_person(synthetic.SceneConfig(), rng, 0, 0.0, 1.0)
            self.walkers.append(Walker(
                pid=self.next_id, pos=start + offset * side + rng.normal(0, 0.1, 2),
                vel=heading * speed * (0.0 if wait else 1.0), speed=speed * rng.uniform(0.97, 1.03),
                goals=list(goals), group=group, offset=offset, height_m=float(np.clip(rng.normal(1.72, 0.08), 1.5, 1.95)),
                quality=rng.normal(0, cfg.quality_person_std), look=look, wait=wait))
            self.next_id += 1

    def _step(self) -> None:
        """Advance every walker by one frame; remove leavers, admit arrivals."""
        cfg, rng, dt = self.cfg, self.rng, self.dt
        walkers = self.walkers
        positions = np.array([w.pos for w in walkers]).reshape(-1, 2)
        groups = np.array([w.group for w in walkers])
        leaders = {}
        for w in walkers:  # a group walks and stops together: its first member decides
            leader = leaders.setdefault(w.group, w)
            if leader is w:
                if w.wait > 0:
                    w.wait -= dt
                elif rng.random() < cfg.stop_rate * dt and self._in_view(w.pos):
                    w.wait = rng.lognormal(np.log(cfg.stop_median_s), 0.8)
                if np.linalg.norm(w.goals[0] - w.pos) < 1.0 and len(w.goals) > 1:
                    w.goals.pop(0)  # waypoint reached: turn to the next goal
            else:
                w.wait, w.goals = leader.wait, leader.goals
        for i, w in enumerate(walkers):
            to_goal = w.goals[0] - w.pos
            heading = to_goal / max(np.linalg.norm(to_goal), 1e-6)
            target = w.goals[0] + w.offset * np.array([heading[1], -heading[0]])
            to_target = target - w.pos
            desired = (np.zeros(2) if w.wait > 0
                       else w.speed * to_target / max(np.linalg.norm(to_target), 0.5))
            # Social force: others (not of the group) push within about a metre.
            away = w.pos - positions
            dist = np.linalg.norm(away, axis=1)
            near = (dist > 1e-6) & (dist < 2.0) & (groups != w.group)
            push = (2.0 * np.exp(-(dist[near] - 0.5) / 0.3))[:, None] * away[near] / dist[near, None]
            force = (desired - w.vel) / 0.5 + push.sum(axis=0) + rng.normal(0, 0.15, 2)
            w.vel = w.vel + force * dt
            speed = np.linalg.norm(w.vel)
            if speed > 2.2:
                w.vel *= 2.2 / speed
            if w.wait > 0 and speed < 0.15:
                w.vel *= 0.5  # standing: shuffles only
            w.pos = w.pos + w.vel * dt
            w.look.phase += 2 * np.pi * 1.8 * dt * min(speed / 1.34, 1.5)  # ~1.8 steps/s
            w.look.pause = int(speed < 0.2)
            w.look.vx = w.vel[0] if abs(w.vel[0]) > 1e-3 else w.look.vx
        self.walkers = [w for w in walkers if not self._left(w)]
        for _ in range(rng.poisson(self.arrival_rate * dt)):
            self._arrive()

    def _in_view(self, pos) -> bool:
        """Whether a ground point is inside the walkable view."""
        return self.cfg.near <= pos[1] <= self.cfg.far and abs(pos[0]) <= self.half_width(pos[1])

    def _left(self, w: Walker) -> bool:
        """Walked out towards its final goal (outside the view, closer to the exit than 1 m)."""
        return len(w.goals) == 1 and np.linalg.norm(w.goals[0] - w.pos) < 1.2 and not self._in_view(w.pos)

    # ------------------------------------------------------------------ rendering
    def render(self, frame_index: int):
        """Image (RGB) and synthetic.FrameTruth of frame ``frame_index`` (0-based); call in order."""
        if frame_index > 0:
            self._step()
        cfg = self.cfg
        image = self.background.copy()
        labels = np.zeros((cfg.height, cfg.width), np.uint8)
        boxes = [self.amodal_box(w) for w in self.walkers]
        # Far to near: people and occluders by depth.
        items = [(w.pos[1], 'walker', i) for i, w in enumerate(self.walkers)]
        items += [(o[1], 'occluder', i) for i, o in enumerate(self.occluders)]
        full_area = np.zeros(len(self.walkers))
        for _, kind, i in sorted(items, key=lambda item: -item[0]):
            if kind == 'occluder':
                self._draw_occluder(image, labels, self.occluders[i])
                continue
            box = boxes[i]
            h = box[3] - box[1]
            if h < 4 or box[2] < -h or box[0] > cfg.width + h or box[3] < 0 or box[1] > cfg.height + h:
                continue
            cx, fy = (box[0] + box[2]) / 2, box[3]
            synthetic.draw_figure(image, self.walkers[i].look, cx, fy, h)
            synthetic.draw_figure(labels, self.walkers[i].look, cx, fy, h, label=i + 1)
            full_area[i] = self._silhouette_area(self.walkers[i].look, h)
        image = np.clip(image.astype(np.int16) + self.noise[frame_index % len(self.noise)], 0, 255).astype(np.uint8)
        if cfg.appearance == 'uniform':
            image = np.full_like(image, synthetic.UNIFORM_GREY)
        truth = self._truth(labels, full_area, boxes)
        self.last_truth = truth
        return image, truth

    def _draw_occluder(self, image, labels, occluder) -> None:
        """A pole or kiosk standing on the ground."""
        x, z, width, height = occluder
        u1, foot = self.project(x - width / 2, z)
        u2, _ = self.project(x + width / 2, z)
        _, top = self.project(x, z, height)
        p1, p2 = (int(u1), int(top)), (int(u2), int(foot))
        cv2.rectangle(image, p1, p2, (95, 85, 80) if width < 1 else (150, 120, 60), -1)
        cv2.rectangle(labels, p1, p2, OCCLUDER_LABEL, -1)

    @staticmethod
    def _silhouette_area(look, h: float) -> float:
        """Pixel count of a figure of height h drawn alone."""
        size = int(h) + 8
        local = np.zeros((size, size), np.uint8)
        synthetic.draw_figure(local, look, size / 2, size - 4, h, label=1)
        return float(np.count_nonzero(local))

    def _truth(self, labels, full_area, boxes) -> synthetic.FrameTruth:
        """Ground truth clipped to the image; boxes less than a third inside are ignore boxes."""
        cfg = self.cfg
        counts = np.bincount(labels.ravel(), minlength=256)
        limits = np.array([cfg.width, cfg.height] * 2, float)
        ids, out, vis_boxes, vis, ignored = [], [], [], [], []
        for i, (w, box) in enumerate(zip(self.walkers, boxes)):
            clipped = np.clip(box, 0, limits)
            area = np.prod(np.maximum(clipped[2:] - clipped[:2], 0))
            if area <= 0:
                continue
            inside = area / max(np.prod(box[2:] - box[:2]), 1e-6)
            visibility = min(1.0, counts[i + 1] / max(full_area[i], 1.0)) if full_area[i] else 0.0
            vb = np.full(4, np.nan)
            if counts[i + 1]:
                x1, y1, x2, y2 = np.clip(clipped, 0, [cfg.width - 1, cfg.height - 1] * 2).astype(int)
                ys, xs = np.nonzero(labels[y1:y2 + 1, x1:x2 + 1] == i + 1)
                if len(xs):
                    vb = np.array([x1 + xs.min(), y1 + ys.min(), x1 + xs.max() + 1, y1 + ys.max() + 1], float)
            ids.append(w.pid)
            out.append(clipped)
            vis_boxes.append(vb)
            vis.append(visibility)
            ignored.append(inside < 1 / 3 or clipped[3] - clipped[1] < 10)
        return synthetic.FrameTruth(np.array(ids, np.int64), np.array(out).reshape(-1, 4),
                                    np.array(vis_boxes).reshape(-1, 4), np.array(vis, float),
                                    ignored=np.array(ignored, bool))

    # ------------------------------------------------------------------ detector
    def _ar(self, state, corr_s: float, scale, size=None):
        """One AR(1) step with correlation time corr_s seconds and stationary std ``scale``."""
        rho = np.exp(-self.dt / corr_s)
        return rho * state + np.sqrt(1 - rho ** 2) * scale * self.rng.normal(size=size)

    def detect(self, truth: synthetic.FrameTruth, frame_index: int):
        """Detections (boxes xyxy clipped to the image, scores) of one frame, shuffled."""
        cfg, rng = self.cfg, self.rng
        limits = np.array([cfg.width, cfg.height] * 2, float)
        by_id = {w.pid: w for w in self.walkers}
        boxes, scores, reported = [], [], []
        for pid, box, vb, v in zip(truth.ids, truth.boxes, truth.visible_boxes, truth.visibility):
            w = by_id[pid]
            h = box[3] - box[1]
            w.noise = self._ar(w.noise, cfg.quality_corr_s, cfg.quality_noise)
            w.box_error = self._ar(w.box_error, cfg.jitter_corr_s, 1.0, 4)
            w.lost = rng.random() < (cfg.dropout_stay if w.lost else cfg.dropout_rate)
            logit = (cfg.quality_mean + w.quality + cfg.quality_size * np.log2(max(h, 1) / 100)
                     - cfg.quality_visibility * (1 - v) + w.noise - cfg.dropout_logit * w.lost)
            score = 1 / (1 + np.exp(-logit))
            if v < 0.1 or score < cfg.score_threshold or not np.isfinite(vb).all():
                continue
            base = box if v >= 0.9 else 0.4 * box + 0.6 * vb  # an occluded person: what is visible
            size = base[2:] - base[:2]
            centre = (base[:2] + base[2:]) / 2 + w.box_error[:2] * (cfg.jitter * size + cfg.jitter_px)
            size = size * np.exp(cfg.jitter_size * w.box_error[2:])
            det = np.concatenate([centre - size / 2, centre + size / 2])
            boxes.append(det)
            scores.append(score)
            reported.append(det)
            if rng.random() < cfg.duplicate_rate:  # NMS leaves a second, shifted box
                boxes.append(det + rng.normal(0, 0.12, 4) * np.r_[size, size])
                scores.append(score * rng.uniform(0.3, 0.8))
            if rng.random() < cfg.part_rate:  # the upper body on its own
                boxes.append(np.r_[det[:2], det[2], det[1] + rng.uniform(0.4, 0.65) * size[1]])
                scores.append(score * rng.uniform(0.3, 0.7))
        self._merged_boxes(truth, boxes, scores)
        self._false_positives(boxes, scores)
        if not boxes:
            return np.zeros((0, 4)), np.zeros(0)
        boxes = np.clip(np.array(boxes), 0, limits)
        scores = np.clip(np.array(scores), 0.0, 0.99)
        keep = (boxes[:, 2] - boxes[:, 0] > 2) & (boxes[:, 3] - boxes[:, 1] > 2) & (scores >= cfg.score_threshold)
        boxes, scores = boxes[keep], scores[keep]
        order = rng.permutation(len(boxes))  # detection order must not leak identity
        return boxes[order], scores[order]

    def _merged_boxes(self, truth, boxes, scores) -> None:
        """One box around two visible people walking close together, now and then."""
        cfg, rng = self.cfg, self.rng
        ok = truth.visibility >= 0.3
        b = truth.boxes[ok]
        for i in range(len(b)):
            for j in range(i + 1, len(b)):
                gap = max(b[i][0], b[j][0]) - min(b[i][2], b[j][2])
                similar = abs(b[i][3] - b[j][3]) < 0.15 * (b[i][3] - b[i][1])
                if gap < 0 and similar and rng.random() < cfg.merge_rate:
                    union = np.r_[np.minimum(b[i][:2], b[j][:2]), np.maximum(b[i][2:], b[j][2:])]
                    boxes.append(union + rng.normal(0, 2, 4))
                    scores.append(rng.uniform(0.1, 0.35))

    def _false_positives(self, boxes, scores) -> None:
        """Clutter places (long-lived, fixed) and flickering false positives."""
        cfg, rng = self.cfg, self.rng
        for place in self.clutter:
            place[2] = self._ar(place[2], 3.0, 0.7)
            score = 1 / (1 + np.exp(-(place[1] + place[2])))
            if score >= cfg.score_threshold:
                size = place[0][2:] - place[0][:2]
                boxes.append(place[0] + rng.normal(0, 0.02, 4) * np.r_[size, size])
                scores.append(score)
        for _ in range(rng.poisson(cfg.flicker_per_frame)):
            z = rng.uniform(cfg.near, cfg.far)
            x = rng.uniform(-1, 1) * self.half_width(z)
            u, foot = self.project(x, z)
            _, head = self.project(x, z, rng.uniform(0.6, 1.9))
            h = foot - head
            boxes.append(np.array([u - 0.2 * h, head, u + 0.2 * h, foot]))
            scores.append(cfg.score_threshold + rng.exponential(0.08))


def sequence_name(appearance: str, seed: int) -> str:
    """Folder name of the walking sequence of a seed."""
    return f'WALK-{appearance.upper()}-S{seed}'


def write_sequence(seq_dir: str, cfg: WalkingConfig, progress: bool = True):
    """Render one walking sequence into ``seq_dir`` (MOTChallenge layout)."""
    return synthetic.write_sequence(seq_dir, cfg, progress, generator=WalkingGenerator(cfg))


def main(argv=None) -> int:
    """``perception-make-mot --scene walking`` entry: write walking sequences."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', required=True)
    parser.add_argument('--seqs', type=int, default=1)
    parser.add_argument('--frames', type=int, default=300)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--appearance', choices=APPEARANCES, default='distinct')
    args = parser.parse_args(argv)
    for i in range(args.seqs):
        seed = args.seed * 1000 + i
        folder = os.path.join(args.out, sequence_name(args.appearance, seed))
        write_sequence(folder, WalkingConfig(frames=args.frames, seed=seed, appearance=args.appearance),
                       progress=False)
        print(folder)
    return 0


if __name__ == '__main__':
    sys.exit(main())
