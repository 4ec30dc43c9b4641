"""Synthetic MOTChallenge sequences: walking people that cross and occlude each other.

Each sequence has rendered frames (``img1/``), ground truth with visibility
(``gt/gt.txt``), detections with a realistic noise model (``det/det.txt``) and
``seqinfo.ini``. People are drawn in depth order (larger foot y = nearer = drawn
later), foreground posts hide them completely for a while, a shadow band changes
their colours, the camera can pan. Clothing comes from small palettes so some
people look alike. Everything is deterministic given the seed.

Detector model: no detection below 10 % visibility; detection probability and
score fall with visibility (occluded people give low-score detections); boxes
drift toward the visible part and are jittered; Poisson false positives plus a
person-like poster that fires now and then; detections are shuffled per frame.
"""

import argparse
import os
import sys
from dataclasses import dataclass
from typing import List, Optional, Tuple

import cv2
import numpy as np
from tqdm import tqdm

from perception_deepsort.mot import io

# Clothing palettes (RGB). Small on purpose: with ~15 people colours repeat.
SHIRTS = [(200, 40, 40), (40, 70, 170), (235, 235, 230), (30, 30, 35), (60, 140, 60),
          (230, 190, 40), (120, 60, 140), (150, 150, 155), (240, 120, 30), (90, 170, 200)]
TROUSERS = [(40, 50, 90), (30, 30, 30), (110, 90, 70), (150, 150, 150), (70, 80, 60)]
SKINS = [(240, 200, 170), (200, 150, 110), (140, 95, 60), (95, 65, 45)]
HAIRS = [(30, 20, 15), (90, 60, 30), (200, 170, 90), (130, 130, 130)]
PATTERNS = ('solid', 'solid', 'hstripes', 'split', 'checker', 'logo')
APPEARANCES = ('distinct', 'lookalike', 'uniform')
#: The one outfit of 'lookalike' sequences: shirt, trousers, skin, hair.
LOOKALIKE = ((40, 70, 170), (30, 30, 30), (200, 150, 110), (30, 20, 15))
UNIFORM_GREY = 128

POST_LABEL = 255  # label-map value of foreground posts (never a person index)


@dataclass
class SceneConfig:
    """Parameters of one generated sequence."""

    width: int = 640
    height: int = 480
    frames: int = 300
    objects: int = 15
    camera: str = 'static'
    seed: int = 0
    frame_rate: float = 30.0
    pan_speed: float = 4.0
    posts: int = 2
    false_positives_per_frame: float = 0.5
    jpeg_quality: int = 85
    #: 'distinct' (palettes), 'lookalike' (everyone in the same clothes) or 'uniform' (frames of
    #: one flat grey: no appearance at all). Trajectories and detections do not depend on it.
    appearance: str = 'distinct'


@dataclass
class Person:
    """One walker in world coordinates (foot centre x, foot y)."""

    pid: int
    x: float
    y: float
    vx: float
    vy: float
    scale: float
    shirt: Tuple[int, int, int]
    shirt2: Tuple[int, int, int]
    trousers: Tuple[int, int, int]
    skin: Tuple[int, int, int]
    hair: Tuple[int, int, int]
    pattern: str
    backpack: Optional[Tuple[int, int, int]]
    phase: float = 0.0
    pause: int = 0
    gait: float = 0.0


def person_height(cfg: SceneConfig, foot_y: float, scale: float) -> float:
    """Height in pixels of a person whose feet are at ``foot_y`` (simple ground-plane perspective)."""
    t = (foot_y - 0.45 * cfg.height) / (0.55 * cfg.height)
    return scale * cfg.height * (0.15 + 0.25 * t)


def person_box(cfg: SceneConfig, p: Person, cam: Tuple[int, int]) -> np.ndarray:
    """Image-space full (amodal) box x1, y1, x2, y2 of a person."""
    h = person_height(cfg, p.y, p.scale)
    cx, fy = p.x - cam[0], p.y - cam[1]
    return np.array([cx - 0.2 * h, fy - h, cx + 0.2 * h, fy], dtype=np.float64)


def _random_person(cfg: SceneConfig, rng: np.random.Generator, pid: int, x: float, direction: float) -> Person:
    """A new walker with random clothes, size and speed moving in ``direction`` (+1 right, -1 left)."""
    y = rng.uniform(0.52, 0.98) * cfg.height
    shirt = SHIRTS[rng.integers(len(SHIRTS))]
    person = Person(
        pid=pid, x=x, y=y,
        vx=direction * rng.uniform(0.5, 2.6), vy=rng.normal(0, 0.15),
        scale=rng.uniform(0.88, 1.12),
        shirt=shirt, shirt2=SHIRTS[rng.integers(len(SHIRTS))],
        trousers=TROUSERS[rng.integers(len(TROUSERS))],
        skin=SKINS[rng.integers(len(SKINS))], hair=HAIRS[rng.integers(len(HAIRS))],
        pattern=PATTERNS[rng.integers(len(PATTERNS))],
        backpack=SHIRTS[rng.integers(len(SHIRTS))] if rng.random() < 0.25 else None,
        phase=rng.uniform(0, 2 * np.pi), gait=rng.uniform(0.8, 1.2),
    )
    if cfg.appearance == 'lookalike':  # drawn as above so the random stream stays the same
        person.shirt, person.trousers, person.skin, person.hair = LOOKALIKE
        person.shirt2, person.pattern, person.backpack = person.shirt, 'solid', None
    return person


def _draw_person(canvas: np.ndarray, cfg: SceneConfig, p: Person, cam: Tuple[int, int],
                 label: Optional[int] = None) -> None:
    """Draw a person on an RGB canvas, or its silhouette with value ``label`` on a label map."""
    draw_figure(canvas, p, p.x - cam[0], p.y - cam[1], person_height(cfg, p.y, p.scale), label)


def draw_figure(canvas: np.ndarray, p: Person, cx: float, fy: float, h: float,
                label: Optional[int] = None) -> None:
    """Draw person ``p`` (clothes, gait phase, pause, vx) with feet at (cx, fy) and height h pixels."""
    top = fy - h
    swing = np.sin(p.phase) * (0.0 if p.pause else 0.11 * h)

    def col(colour):
        """The part's colour, or the silhouette label when drawing a label map."""
        return colour if label is None else label

    th = max(2, int(round(0.085 * h)))
    hip = (int(cx), int(top + 0.55 * h))
    # Legs and shoes.
    for s in (swing, -swing):
        foot = (int(cx + s), int(fy - 0.02 * h))
        cv2.line(canvas, hip, foot, col(p.trousers), th)
        cv2.line(canvas, foot, (int(foot[0] + np.sign(p.vx or 1) * 0.04 * h), foot[1]), col((25, 25, 25)), th)
    # Arms swing opposite to the legs.
    shoulder_y = int(top + 0.22 * h)
    for dx, s in ((-0.15, -swing), (0.15, swing)):
        hand = (int(cx + dx * h + 0.7 * s), int(top + 0.52 * h))
        cv2.line(canvas, (int(cx + dx * h), shoulder_y), hand, col(p.shirt), max(2, th - 1))
        cv2.circle(canvas, hand, max(1, th // 2), col(p.skin), -1)
    # Torso.
    x1, x2 = int(cx - 0.13 * h), int(cx + 0.13 * h)
    y1, y2 = int(top + 0.18 * h), int(top + 0.57 * h)
    cv2.rectangle(canvas, (x1, y1), (x2, y2), col(p.shirt), -1)
    if label is None:
        _draw_pattern(canvas, p, x1, y1, x2, y2)
        if p.backpack is not None:
            bx = x2 - int(0.08 * h) if p.vx < 0 else x1
            cv2.rectangle(canvas, (bx, y1 + 2), (bx + int(0.08 * h), int(top + 0.45 * h)), p.backpack, -1)
    # Head and hair.
    head = (int(cx), int(top + 0.1 * h))
    r = max(2, int(0.075 * h))
    cv2.circle(canvas, head, r, col(p.skin), -1)
    cv2.ellipse(canvas, head, (r, r), 0, 180, 360, col(p.hair), -1)


def _draw_pattern(canvas: np.ndarray, p: Person, x1: int, y1: int, x2: int, y2: int) -> None:
    """Overlay the shirt's texture inside its torso rectangle."""
    if p.pattern == 'hstripes':
        step = max(3, (y2 - y1) // 6)
        for y in range(y1, y2, 2 * step):
            cv2.rectangle(canvas, (x1, y), (x2, min(y + step - 1, y2)), p.shirt2, -1)
    elif p.pattern == 'split':
        cv2.rectangle(canvas, ((x1 + x2) // 2, y1), (x2, y2), p.shirt2, -1)
    elif p.pattern == 'checker':
        step = max(3, (x2 - x1) // 3)
        for i, y in enumerate(range(y1, y2, step)):
            for j, x in enumerate(range(x1, x2, step)):
                if (i + j) % 2:
                    cv2.rectangle(canvas, (x, y), (min(x + step - 1, x2), min(y + step - 1, y2)), p.shirt2, -1)
    elif p.pattern == 'logo':
        w = (x2 - x1) // 3
        cv2.rectangle(canvas, (x1 + w, y1 + w // 2), (x2 - w, y1 + w // 2 + w), p.shirt2, -1)


def _make_background(cfg: SceneConfig, rng: np.random.Generator, world_w: int, world_h: int) -> np.ndarray:
    """A textured street scene: smooth colour field, facades with windows, ground, fine texture."""
    low = rng.uniform(60, 200, size=(6, max(2, world_w // 80), 3)).astype(np.float32)
    bg = cv2.resize(low, (world_w, world_h), interpolation=cv2.INTER_CUBIC)
    horizon = int(0.42 * world_h)
    bg[horizon:] = bg[horizon:] * 0.5 + np.array([120, 115, 105], np.float32) * 0.5
    x = 0
    while x < world_w:  # building facades with windows
        w = int(rng.uniform(60, 180))
        top = int(rng.uniform(0.02, 0.25) * world_h)
        colour = rng.uniform(70, 210, 3)
        cv2.rectangle(bg, (x, top), (x + w, horizon), colour.tolist(), -1)
        for wy in range(top + 10, horizon - 20, 28):
            for wx in range(x + 8, x + w - 16, 24):
                cv2.rectangle(bg, (wx, wy), (wx + 12, wy + 16), (colour * 0.45).tolist(), -1)
        x += w + int(rng.uniform(0, 30))
    fine = cv2.resize(rng.normal(0, 14, size=(world_h // 3, world_w // 3, 3)).astype(np.float32),
                      (world_w, world_h), interpolation=cv2.INTER_LINEAR)
    for y in range(horizon + 20, world_h, 45):  # paving lines give the ground structure for motion estimates
        cv2.line(bg, (0, y), (world_w, y + int(rng.uniform(-10, 10))), (90, 90, 85), 2)
    return np.clip(bg + fine, 0, 255).astype(np.uint8)


def _camera_path(cfg: SceneConfig, rng: np.random.Generator) -> Tuple[np.ndarray, int, int]:
    """Per-frame integer camera offsets (x, y) into the world image, and the world size."""
    t = np.arange(cfg.frames, dtype=np.float64)
    if cfg.camera == 'pan':
        period = rng.uniform(180, 300)
        amplitude = cfg.pan_speed * period / (2 * np.pi)  # peak speed = pan_speed px/frame
        xs = amplitude * (1 - np.cos(2 * np.pi * t / period + rng.uniform(0, 0.5)))
        ys = 4 + 3 * np.sin(2 * np.pi * t / rng.uniform(40, 80)) + rng.normal(0, 0.5, cfg.frames)
    elif cfg.camera == 'static':
        xs, ys = np.zeros(cfg.frames), np.full(cfg.frames, 4.0)
    else:
        raise ValueError(f"camera must be 'static' or 'pan', got {cfg.camera!r}")
    cam = np.stack([np.round(xs), np.clip(np.round(ys), 0, 8)], axis=1).astype(np.int64)
    return cam, cfg.width + int(cam[:, 0].max()) + 1, cfg.height + 9


@dataclass
class FrameTruth:
    """Ground truth of one rendered frame."""

    ids: np.ndarray
    boxes: np.ndarray          # amodal boxes, xyxy, image coordinates
    visible_boxes: np.ndarray  # box around the visible pixels (NaN when invisible)
    visibility: np.ndarray
    ignored: Optional[np.ndarray] = None  # True: an ignore box (written as MOT17 distractor class)


class SequenceGenerator:
    """Simulates and renders one sequence frame by frame."""

    def __init__(self, cfg: SceneConfig):
        if cfg.appearance not in APPEARANCES:
            raise ValueError(f'appearance must be one of {APPEARANCES}, got {cfg.appearance!r}')
        self.cfg = cfg
        self.rng = np.random.default_rng(cfg.seed)
        self.cam, world_w, world_h = _camera_path(cfg, self.rng)
        self.background = _make_background(cfg, self.rng, world_w, world_h)
        self.gain = self._shadow_gain(world_w, world_h)
        self.posts = [(int(self.rng.uniform(0.1, 0.9) * world_w), int(self.rng.uniform(22, 38)))
                      for _ in range(cfg.posts)]
        self.poster = (self.rng.uniform(0.1, 0.9) * world_w, 0.5 * cfg.height)
        self.noise = [self.rng.normal(0, 4, (cfg.height, cfg.width, 3)).astype(np.int16) for _ in range(4)]
        self.people: List[Person] = []
        self.next_id = 1
        self.spawn_wait = 0
        for _ in range(cfg.objects):
            self.people.append(_random_person(cfg, self.rng, self._new_id(),
                                              self.cam[0, 0] + self.rng.uniform(0, cfg.width),
                                              self.rng.choice([-1.0, 1.0])))

    def _new_id(self) -> int:
        """Next unused ground-truth id."""
        self.next_id += 1
        return self.next_id - 1

    def _shadow_gain(self, world_w: int, world_h: int) -> np.ndarray:
        """Brightness per world column: one or two soft shadow bands that recolour people walking through."""
        gain = np.ones(world_w, np.float32)
        xs = np.arange(world_w)
        for _ in range(self.rng.integers(1, 3)):
            c, half = self.rng.uniform(0, world_w), self.rng.uniform(50, 120)
            gain -= 0.4 * np.clip(1.5 - np.abs(xs - c) / half, 0, 1).astype(np.float32)
        return np.clip(gain, 0.45, 1.0)

    def _step(self, frame_index: int) -> None:
        """Advance walkers (speed changes, pauses, turns), remove leavers and spawn newcomers."""
        cfg, rng = self.cfg, self.rng
        cam_x = self.cam[frame_index, 0]
        kept = []
        for p in self.people:
            if p.pause:
                p.pause -= 1
            else:
                p.vx = np.clip(p.vx + rng.normal(0, 0.04), -3.0, 3.0)
                if abs(p.vx) < 0.3:
                    p.vx = 0.3 * np.sign(p.vx or 1.0)
                p.vy = np.clip(p.vy + rng.normal(0, 0.02), -0.4, 0.4)
                if rng.random() < 0.003:
                    p.pause = int(rng.integers(15, 60))
                if rng.random() < 0.002:
                    p.vx = -p.vx
                depth = person_height(cfg, p.y, 1.0) / (0.3 * cfg.height)  # nearer people move faster on screen
                p.x += p.vx * depth
                p.y = float(np.clip(p.y + p.vy, 0.5 * cfg.height, 0.99 * cfg.height))
                p.phase += 0.18 * p.gait * abs(p.vx)
            margin = 0.25 * person_height(cfg, p.y, p.scale)
            x_img = p.x - cam_x
            leaving = (x_img < -margin and p.vx < 0) or (x_img > cfg.width + margin and p.vx > 0)
            if not leaving:
                kept.append(p)
        self.people = kept
        if self.spawn_wait > 0:
            self.spawn_wait -= 1
        elif len(self.people) < cfg.objects:
            direction = rng.choice([-1.0, 1.0])
            x = cam_x + (cfg.width + 30 if direction < 0 else -30)
            self.people.append(_random_person(cfg, rng, self._new_id(), x, direction))
            self.spawn_wait = int(rng.integers(0, 25))

    def render(self, frame_index: int) -> Tuple[np.ndarray, FrameTruth]:
        """Image (RGB) and ground truth of frame ``frame_index`` (0-based); call in order."""
        if frame_index > 0:
            self._step(frame_index)
        cfg = self.cfg
        cx, cy = (int(v) for v in self.cam[frame_index])
        image = self.background[cy:cy + cfg.height, cx:cx + cfg.width].copy()
        labels = np.zeros((cfg.height, cfg.width), np.uint8)
        order = sorted(range(len(self.people)), key=lambda i: self.people[i].y)  # far to near
        full_area = np.zeros(len(self.people))
        for i in order:
            p = self.people[i]
            _draw_person(image, cfg, p, (cx, cy))
            _draw_person(labels, cfg, p, (cx, cy), label=i + 1)
            full_area[i] = self._silhouette_area(p)
        for px, pw in self.posts:
            x0 = px - cx
            cv2.rectangle(image, (x0, 0), (x0 + pw, cfg.height), (70, 60, 55), -1)
            cv2.rectangle(image, (x0 + 3, 0), (x0 + 6, cfg.height), (110, 100, 95), -1)
            cv2.rectangle(labels, (x0, 0), (x0 + pw, cfg.height), POST_LABEL, -1)
        gain = self.gain[cx:cx + cfg.width]
        image = (image.astype(np.float32) * gain[None, :, None]).astype(np.int16)
        image = np.clip(image + self.noise[frame_index % len(self.noise)], 0, 255).astype(np.uint8)
        if cfg.appearance == 'uniform':
            image = np.full_like(image, UNIFORM_GREY)
        return image, self._truth(labels, full_area, (cx, cy))

    def _silhouette_area(self, p: Person) -> float:
        """Pixel count of the person's unoccluded silhouette (drawn alone on a local canvas)."""
        h = person_height(self.cfg, p.y, p.scale)
        size = int(h) + 8
        local = np.zeros((size, size), np.uint8)
        _draw_person(local, self.cfg, p, (p.x - size / 2, p.y - size + 4), label=1)
        return float(np.count_nonzero(local))

    def _truth(self, labels: np.ndarray, full_area: np.ndarray, cam: Tuple[int, int]) -> FrameTruth:
        """Ground truth boxes, visible boxes and visibility of everyone overlapping the image."""
        cfg = self.cfg
        counts = np.bincount(labels.ravel(), minlength=256)
        ids, boxes, vis_boxes, vis = [], [], [], []
        for i, p in enumerate(self.people):
            box = person_box(cfg, p, cam)
            if box[2] <= 0 or box[0] >= cfg.width or box[3] <= 0 or box[1] >= cfg.height:
                continue
            visibility = min(1.0, counts[i + 1] / max(full_area[i], 1.0))
            vb = np.full(4, np.nan)
            if counts[i + 1]:
                x1, y1, x2, y2 = np.clip(box, 0, [cfg.width - 1, cfg.height - 1] * 2).astype(int)
                ys, xs = np.nonzero(labels[y1:y2 + 1, x1:x2 + 1] == i + 1)
                if len(xs):
                    vb = np.array([x1 + xs.min(), y1 + ys.min(), x1 + xs.max() + 1, y1 + ys.max() + 1], float)
            ids.append(p.pid)
            boxes.append(box)
            vis_boxes.append(vb)
            vis.append(visibility)
        return FrameTruth(np.array(ids, np.int64), np.array(boxes).reshape(-1, 4),
                          np.array(vis_boxes).reshape(-1, 4), np.array(vis, np.float64))

    def detect(self, truth: FrameTruth, frame_index: int) -> Tuple[np.ndarray, np.ndarray]:
        """Noisy detections (boxes xyxy clipped to the image, scores) for one frame's truth, shuffled."""
        cfg, rng = self.cfg, self.rng
        boxes, scores = [], []
        limits = np.array([cfg.width, cfg.height] * 2, float)
        for box, vb, v in zip(truth.boxes, truth.visible_boxes, truth.visibility):
            if v < 0.1:
                continue
            p_detect = 0.97 if v >= 0.7 else 0.3 + 0.67 * (v - 0.1) / 0.6
            if rng.random() > p_detect:
                continue
            # Occluded people: the detector box shrinks toward what it can see.
            base = box if v >= 0.9 else 0.4 * box + 0.6 * vb
            w, h = base[2] - base[0], base[3] - base[1]
            centre = (base[:2] + base[2:]) / 2 + rng.normal(0, 0.035, 2) * (w, h)
            size = np.array([w, h]) * np.exp(rng.normal(0, 0.05, 2))
            boxes.append(np.concatenate([centre - size / 2, centre + size / 2]))
            scores.append(np.clip(0.15 + 0.8 * v + rng.normal(0, 0.07), 0.05, 0.99))
        for _ in range(rng.poisson(cfg.false_positives_per_frame)):
            fy = rng.uniform(0.5, 1.0) * cfg.height
            h = person_height(cfg, fy, rng.uniform(0.7, 1.2))
            fx = rng.uniform(0, cfg.width)
            boxes.append(np.array([fx - 0.2 * h, fy - h, fx + 0.2 * h, fy]))
            scores.append(rng.uniform(0.1, 0.65))
        px = self.poster[0] - self.cam[frame_index, 0]
        if 0 < px < cfg.width and rng.random() < 0.3:  # a person-like poster fires now and then
            h = person_height(cfg, self.poster[1], 0.8)
            boxes.append(np.array([px - 0.2 * h, self.poster[1] - h, px + 0.2 * h, self.poster[1]])
                         + rng.normal(0, 2, 4))
            scores.append(rng.uniform(0.3, 0.6))
        if not boxes:
            return np.zeros((0, 4)), np.zeros(0)
        boxes = np.clip(np.array(boxes), 0, limits)
        keep = (boxes[:, 2] - boxes[:, 0] > 2) & (boxes[:, 3] - boxes[:, 1] > 2)
        boxes, scores = boxes[keep], np.array(scores)[keep]
        order = rng.permutation(len(boxes))  # detection order must not leak identity
        return boxes[order], scores[order]


#: MOT17 class of ignore boxes: a distractor, so results on it count neither way.
IGNORE_CLASS = 8


def write_sequence(seq_dir: str, cfg, progress: bool = True, generator=None) -> io.SeqInfo:
    """Render a whole sequence into ``seq_dir`` in MOTChallenge layout.

    ``generator`` (default SequenceGenerator(cfg)) has render(t) -> (image, FrameTruth) and
    detect(truth, t) -> (boxes, scores); cfg gives size, frames, frame_rate, jpeg_quality.
    """
    gen = SequenceGenerator(cfg) if generator is None else generator
    info = io.SeqInfo(name=os.path.basename(os.path.normpath(seq_dir)), frame_rate=cfg.frame_rate,
                      length=cfg.frames, width=cfg.width, height=cfg.height)
    img_dir = os.path.join(seq_dir, info.im_dir)
    os.makedirs(img_dir, exist_ok=True)
    gt_rows, det_rows = [], []
    for t in tqdm(range(cfg.frames), desc=info.name, disable=not progress, leave=False):
        image, truth = gen.render(t)
        ok, jpg = cv2.imencode('.jpg', cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_JPEG_QUALITY, cfg.jpeg_quality])
        with open(io.frame_path(seq_dir, info, t + 1), 'wb') as f:
            f.write(jpg.tobytes())
        ignored = np.zeros(len(truth.ids), bool) if truth.ignored is None else truth.ignored
        gt_rows += [(t + 1, i, b, v, IGNORE_CLASS if g else 1)
                    for i, b, v, g in zip(truth.ids, truth.boxes, truth.visibility, ignored)]
        det_boxes, det_scores = gen.detect(truth, t)
        det_rows += [(t + 1, b, s) for b, s in zip(det_boxes, det_scores)]
    io.write_ground_truth(os.path.join(seq_dir, 'gt', 'gt.txt'),
                          [r[0] for r in gt_rows], [r[1] for r in gt_rows],
                          np.array([r[2] for r in gt_rows]).reshape(-1, 4), [r[3] for r in gt_rows],
                          classes=np.array([r[4] for r in gt_rows]))
    io.write_detections(os.path.join(seq_dir, 'det', 'det.txt'), [r[0] for r in det_rows],
                        np.array([r[1] for r in det_rows]).reshape(-1, 4), [r[2] for r in det_rows])
    io.write_seqinfo(seq_dir, info)
    return info


def sequence_name(camera: str, seed: int, index: int) -> str:
    """Folder name of generated sequence ``index`` for a camera mode and seed."""
    return f'SYN-{camera.upper()}-S{seed}-{index:02d}'


def generate(out_dir: str, seqs: int, cfg: SceneConfig, progress: bool = True) -> List[str]:
    """Write ``seqs`` sequences (seeds derived from ``cfg.seed``) under ``out_dir``; return their folders."""
    folders = []
    for i in tqdm(range(seqs), desc='sequences', disable=not progress or seqs == 1):
        seq_cfg = SceneConfig(**{**cfg.__dict__, 'seed': cfg.seed * 1000 + i})
        folder = os.path.join(out_dir, sequence_name(cfg.camera, cfg.seed, i))
        write_sequence(folder, seq_cfg, progress)
        folders.append(folder)
    return folders


def main(argv=None) -> int:
    """``perception-make-mot``: write synthetic MOTChallenge sequences."""
    parser = argparse.ArgumentParser(
        prog='perception-make-mot',
        description='Generate synthetic MOTChallenge sequences (img1/, det/det.txt, gt/gt.txt, seqinfo.ini) '
                    'of walking people who cross and occlude each other; deterministic by --seed.')
    parser.add_argument('--out', required=True, help='output folder; one sub-folder per sequence')
    parser.add_argument('--seqs', type=int, default=1, help='number of sequences (default 1)')
    parser.add_argument('--frames', type=int, default=300, help='frames per sequence (default 300)')
    parser.add_argument('--objects', type=int, default=15, help='people in view at a time (default 15)')
    parser.add_argument('--camera', choices=['static', 'pan'], default='static', help='camera motion')
    parser.add_argument('--width', type=int, default=640)
    parser.add_argument('--height', type=int, default=480)
    parser.add_argument('--fps', type=float, default=30.0, help='frame rate written to seqinfo.ini')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--appearance', choices=APPEARANCES, default='distinct',
                        help='distinct clothes, everyone alike, or uniform grey frames (no appearance)')
    parser.add_argument('--scene', choices=['crossing', 'walking'], default='crossing',
                        help='crossing: this module\'s scene; walking: pedestrians with a real detector\'s '
                             'noise (mot/synthetic_walking.py: its own camera, 768x576 at 10 fps; --objects, '
                             '--camera, --width, --height, --fps do not apply)')
    args = parser.parse_args(argv)
    if args.scene == 'walking':
        from perception_deepsort.mot import synthetic_walking
        return synthetic_walking.main(['--out', args.out, '--seqs', str(args.seqs), '--frames', str(args.frames),
                                       '--seed', str(args.seed), '--appearance',
                                       'uniform' if args.appearance == 'uniform' else 'distinct'])
    for name in ('seqs', 'frames', 'objects'):
        if getattr(args, name) < 1:
            parser.error(f'--{name} must be at least 1')
    if args.width < 64 or args.height < 64:
        parser.error('--width and --height must be at least 64 pixels')
    cfg = SceneConfig(width=args.width, height=args.height, frames=args.frames, objects=args.objects,
                      camera=args.camera, seed=args.seed, frame_rate=args.fps,
                      appearance=args.appearance)
    for folder in generate(args.out, args.seqs, cfg):
        print(folder)
    return 0


if __name__ == '__main__':
    sys.exit(main())
