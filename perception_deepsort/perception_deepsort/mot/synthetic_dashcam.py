"""Synthetic forward-driving dashcam sequences: vehicles on a road seen from a moving car.

A pinhole camera rides forward along a straight road with steering yaw and road bumps
(pitch). Right-hand traffic: the ego lane and a passing lane to its left carry vehicles
seen from behind (slower ones are overtaken, faster ones overtake, some change lanes), two
oncoming lanes further left carry vehicles seen from the front, and cars parked on the right
sweep out of view as the car passes. Vehicles are cuboids in ordinary car colours (white,
black, grey and silver most common); boxes grow and shrink with distance and hide each
other. Ground truth boxes are clipped to the image; boxes less than `min_visibility`
visible (occluded or cut by the image border) or smaller than `min_height` pixels are
ignore boxes (MOT17 distractors). Same detector model as synthetic.py, in MOTChallenge
layout via synthetic.write_sequence. Deterministic given the seed.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

import cv2
import numpy as np

from perception_deepsort.mot import synthetic

#: Lateral lane centres (metres, camera starts at 0): ego lane, passing lane, oncoming lanes.
EGO_LANE, PASSING_LANE, ONCOMING_LANES, PARKED_X = 0.0, -3.5, (-7.0, -10.5), 3.4
#: Road surface from ROAD_LEFT to ROAD_RIGHT, sidewalk beyond the parking strip.
ROAD_LEFT, ROAD_RIGHT, SIDEWALK = -12.25, 5.0, 8.0
#: Car colours (RGB) and how common they are: white, black, grey, silver first.
COLOURS = [((235, 235, 232), 0.24), ((28, 28, 32), 0.2), ((110, 112, 116), 0.17),
           ((178, 180, 184), 0.15), ((40, 60, 130), 0.08), ((150, 25, 30), 0.07),
           ((40, 80, 50), 0.03), ((190, 170, 130), 0.03), ((95, 60, 40), 0.03)]
#: (width, height, length) in metres and frequency of cars, vans/SUVs, trucks.
SHAPES = [((1.8, 1.45, 4.5), 0.7), ((1.95, 1.9, 4.9), 0.2), ((2.5, 3.2, 9.0), 0.1)]
POLE_LABEL = 255


@dataclass
class DashcamConfig:
    """Parameters of one dashcam sequence."""

    width: int = 640
    height: int = 360
    frames: int = 300
    frame_rate: float = 30.0
    seed: int = 0
    ego_speed: float = 14.0  # m/s
    vehicles: int = 10  # moving vehicles around at a time (same direction and oncoming)
    parked_gap: float = 18.0  # mean metres between parked cars
    focal: float = 0.8  # focal length / image width
    camera_height: float = 1.3  # metres
    far: float = 110.0  # vehicles further ahead are not drawn
    min_visibility: float = 0.25
    min_height: float = 10.0
    false_positives_per_frame: float = 0.3
    jpeg_quality: int = 85


@dataclass
class Vehicle:
    """A cuboid on the road: centre x (lateral), z (along the road), speed (m/s, + = ours)."""

    vid: int
    x: float
    z: float
    speed: float
    size: tuple  # width, height, length
    colour: tuple
    oncoming: bool = False
    target_x: float = 0.0


class DashcamGenerator:
    """Simulates and renders one dashcam sequence frame by frame (synthetic.write_sequence API)."""

    def __init__(self, cfg: DashcamConfig):
        self.cfg = cfg
        self.rng = np.random.default_rng(cfg.seed)
        self.f = cfg.focal * cfg.width
        self.texture = self.rng.normal(0, 1, (256, 256)).astype(np.float32)
        self.next_id = 1
        self.ego_z = 0.0
        self.vehicles: list[Vehicle] = []
        self.parked_next = self.rng.uniform(8, 30)
        self.yaw_phase = self.rng.uniform(0, 2 * np.pi, 2)
        self.bump = 0.0
        for _ in range(cfg.vehicles):
            self._spawn(initial=True)
        while self.parked_next < cfg.far:
            self._spawn_parked()
        self.noise = [self.rng.normal(0, 3, (cfg.height, cfg.width, 3)).astype(np.int16) for _ in range(3)]

    # ----------------------------------------------------------------- simulation
    def _new_vehicle(self, x, z, speed, oncoming=False) -> Vehicle:
        rng = self.rng
        while any(abs(v.x - x) < 2.5 and abs(v.z - z) < 10.0 for v in self.vehicles):
            z += 12.0 if z > self.ego_z else -12.0  # never spawn into another vehicle
        size = SHAPES[rng.choice(len(SHAPES), p=[p for _, p in SHAPES])][0]
        colour = np.array(COLOURS[rng.choice(len(COLOURS), p=[p for _, p in COLOURS])][0], float)
        colour = tuple(np.clip(colour + rng.normal(0, 6, 3), 0, 255))
        vehicle = Vehicle(self.next_id, x, z, speed, size, colour, oncoming, x)
        self.next_id += 1
        self.vehicles.append(vehicle)
        return vehicle

    def _spawn(self, initial: bool = False) -> None:
        """A moving vehicle: ahead (or, for overtakers, behind) in a random lane."""
        cfg, rng = self.cfg, self.rng
        kind = rng.random()
        if kind < 0.35:  # oncoming
            z = self.ego_z + (rng.uniform(15, cfg.far) if initial else rng.uniform(cfg.far, cfg.far + 30))
            self._new_vehicle(ONCOMING_LANES[rng.integers(2)], z, -rng.uniform(9, 16), oncoming=True)
        elif kind < 0.55 and not initial:  # overtaker from behind in the passing lane
            self._new_vehicle(PASSING_LANE, self.ego_z - rng.uniform(8, 15), cfg.ego_speed + rng.uniform(2, 6))
        else:
            lane = EGO_LANE if rng.random() < 0.45 else PASSING_LANE
            z = self.ego_z + (rng.uniform(14, cfg.far) if initial else rng.uniform(cfg.far, cfg.far + 20))
            speed = cfg.ego_speed + (rng.uniform(0, 3) if lane == EGO_LANE else rng.uniform(-5, 3))
            self._new_vehicle(lane, z, speed)

    def _spawn_parked(self) -> None:
        self._new_vehicle(PARKED_X + self.rng.normal(0, 0.1), self.parked_next, 0.0)
        self.parked_next += self.rng.exponential(self.cfg.parked_gap) + 5.5

    def _step(self) -> None:
        """Move ego and vehicles; lane changes and cut-ins; replace vehicles that left."""
        cfg, rng = self.cfg, self.rng
        dt = 1.0 / cfg.frame_rate
        self.ego_z += cfg.ego_speed * dt
        for v in self.vehicles:
            if v.speed == 0.0:
                continue
            ahead = v.z - self.ego_z
            in_ego_lane = abs(v.x - EGO_LANE) < 1.9
            if not v.oncoming:
                v.speed += rng.normal(0, 0.05)
                if in_ego_lane and 0 < ahead < 16:  # never closer than that in front of us
                    v.speed = max(v.speed, cfg.ego_speed + 1.0)
                if v.x == v.target_x and ahead > 18 and rng.random() < 0.004:
                    v.target_x = PASSING_LANE if v.target_x == EGO_LANE else EGO_LANE  # lane change
            v.z += v.speed * dt
            if v.x != v.target_x:
                step = np.sign(v.target_x - v.x) * 1.2 * dt
                v.x = v.target_x if abs(v.target_x - v.x) <= abs(step) else v.x + step
        moving = [v for v in self.vehicles if v.speed != 0.0]
        self.vehicles = [v for v in self.vehicles
                         if -20 < v.z - self.ego_z < cfg.far + 40 and (v.speed != 0.0 or v.z - self.ego_z > -3)]
        gone = len(moving) - sum(v.speed != 0.0 for v in self.vehicles)
        for _ in range(gone):
            self._spawn()
        while self.parked_next < self.ego_z + cfg.far:
            self._spawn_parked()

    def _camera(self, t: int) -> tuple:
        """(lateral x, height, yaw, pitch) of the camera at frame t: steering and road bumps."""
        cfg, rng = self.cfg, self.rng
        s = t / cfg.frame_rate
        yaw = 0.02 * np.sin(2 * np.pi * s / 6.0 + self.yaw_phase[0]) + 0.008 * np.sin(2 * np.pi * s / 1.7 + self.yaw_phase[1])
        if rng.random() < 0.03:
            self.bump = rng.uniform(0.01, 0.03) * rng.choice([-1, 1])
        self.bump *= 0.85
        pitch = 0.004 * np.sin(2 * np.pi * s / 0.6) + self.bump
        x = 0.4 * np.sin(2 * np.pi * s / 6.0 + self.yaw_phase[0] - np.pi / 2)
        return x, cfg.camera_height + 0.3 * self.bump, yaw, pitch

    # ----------------------------------------------------------------- projection
    def _project(self, points: np.ndarray, cam: tuple) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates (N, 2) and depths (N,) of world points (N, 3: x, y up, z)."""
        ex, eh, yaw, pitch = cam
        dx, dy, dz = points[:, 0] - ex, points[:, 1] - eh, points[:, 2] - self.ego_z
        xc = np.cos(yaw) * dx - np.sin(yaw) * dz
        zc = np.sin(yaw) * dx + np.cos(yaw) * dz
        yd = -dy
        y2 = np.cos(pitch) * yd - np.sin(pitch) * zc
        z2 = np.sin(pitch) * yd + np.cos(pitch) * zc
        with np.errstate(divide='ignore', invalid='ignore'):
            uv = np.stack([self.cfg.width / 2 + self.f * xc / z2, self.cfg.height / 2 + self.f * y2 / z2], axis=1)
        return uv, z2

    def _ground(self, cam: tuple) -> np.ndarray:
        """The road scene without vehicles: sky, asphalt with lane markings, sidewalk, verge."""
        cfg = self.cfg
        ex, eh, yaw, pitch = cam
        v, u = np.mgrid[0:cfg.height, 0:cfg.width].astype(np.float32)
        a, b = (u - cfg.width / 2) / self.f, (v - cfg.height / 2) / self.f
        yd = np.cos(pitch) * b + np.sin(pitch)
        zc = -np.sin(pitch) * b + np.cos(pitch)
        ground = yd > 1e-3
        t = np.where(ground, eh / np.maximum(yd, 1e-3), 0.0)
        xc, zc = t * a, t * zc
        X = ex + np.cos(yaw) * xc + np.sin(yaw) * zc
        Z = self.ego_z - np.sin(yaw) * xc + np.cos(yaw) * zc
        tex = self.texture[(np.floor(Z * 6) % 256).astype(int), (np.floor(X * 6) % 256).astype(int)]
        grey = np.where(X < ROAD_LEFT, 95 + 12 * tex, np.where(X < ROAD_RIGHT, 85 + 10 * tex,
                        np.where(X < SIDEWALK, 160 + 8 * tex, 90 + 14 * tex)))
        image = np.repeat(grey[..., None], 3, axis=2)
        verge = (X < ROAD_LEFT) | (X >= SIDEWALK)
        image[verge] *= np.array([0.8, 1.15, 0.7], np.float32)  # grass
        dashed = (Z % 9.0) < 3.0
        lines = ((np.abs(X - 1.75) < 0.08) | (np.abs(X - ROAD_LEFT) < 0.1) | (np.abs(X - ROAD_RIGHT) < 0.1)
                 | ((np.abs(X + 1.75) < 0.08) & dashed) | ((np.abs(X + 8.75) < 0.08) & dashed))
        image[lines] = 225
        image[(np.abs(np.abs(X + 5.25) - 0.15) < 0.06)] = (220, 190, 40)  # double yellow centre line
        horizon = np.clip(v / max(cfg.height, 1), 0, 1)[..., None] * np.array([-40, -30, -10], np.float32)
        sky = np.array([150, 185, 225], np.float32) + horizon
        image = np.where(ground[..., None] & (t[..., None] < 400), image, sky)
        return image

    # ----------------------------------------------------------------- rendering
    def _cuboid(self, x, z, size) -> np.ndarray:
        w, h, length = size
        return np.array([[x + sx * w / 2, y, z + sz * length / 2]
                         for sx in (-1, 1) for y in (0.0, h) for sz in (-1, 1)])

    def _poles(self):
        """Lamp posts on both sides every 25 m: static structure that hides vehicles now and then."""
        first = np.ceil(self.ego_z / 25.0) * 25.0
        return [(side, z) for z in np.arange(first, self.ego_z + self.cfg.far, 25.0) for side in (6.5, -13.5)]

    def render(self, frame_index: int):
        """Image (RGB) and ground truth of frame ``frame_index`` (0-based); call in order."""
        if frame_index > 0:
            self._step()
        cfg = self.cfg
        cam = self._camera(frame_index)
        image = self._ground(cam)
        labels = np.zeros((cfg.height, cfg.width), np.uint8)
        items = []  # (depth, kind, index, hull, near face)
        for i, v in enumerate(self.vehicles):
            if v.z - self.ego_z > cfg.far:
                continue
            uv, depth = self._project(self._cuboid(v.x, v.z, v.size), cam)
            if depth.min() < 1.0:
                continue
            items.append((depth.mean(), 'vehicle', i, uv))
        for side, z in self._poles():
            uv, depth = self._project(self._cuboid(side, z, (0.25, 6.0, 0.25)), cam)
            if depth.min() >= 1.0:
                items.append((depth.mean(), 'pole', -1, uv))
        items.sort(key=lambda item: -item[0])  # far to near
        full_area = {}
        for depth, kind, i, uv in items:
            hull = cv2.convexHull(np.round(uv).astype(np.int32))
            if kind == 'pole':
                cv2.fillConvexPoly(image, hull, (120, 120, 125))
                cv2.fillConvexPoly(labels, hull, POLE_LABEL)
                continue
            self._draw_vehicle(image, self.vehicles[i], uv, hull)
            cv2.fillConvexPoly(labels, hull, i + 1)
            full_area[i] = (cv2.contourArea(hull.astype(np.float32)), uv)
        image = np.clip(image.astype(np.int16) + self.noise[frame_index % len(self.noise)], 0, 255).astype(np.uint8)
        return image, self._truth(labels, full_area)

    def _draw_vehicle(self, image, v: Vehicle, uv: np.ndarray, hull: np.ndarray) -> None:
        """Body (shaded hull), the face towards the camera with windows, lights and bumper."""
        colour = np.array(v.colour)
        cv2.fillConvexPoly(image, hull, (0.7 * colour).tolist())
        # Corners are ordered (sx, y, sz); the near face is sz = -1: indices 0, 2, 4, 6.
        bl, tl, br, tr = uv[0], uv[2], uv[4], uv[6]
        cv2.fillConvexPoly(image, np.round([bl, br, tr, tl]).astype(np.int32), colour.tolist())

        def band(f0, f1, fx0=0.0, fx1=1.0):
            left0, left1 = bl + (tl - bl) * f0, bl + (tl - bl) * f1
            right0, right1 = br + (tr - br) * f0, br + (tr - br) * f1
            p = [left0 + (right0 - left0) * fx0, left0 + (right0 - left0) * fx1,
                 left1 + (right1 - left1) * fx1, left1 + (right1 - left1) * fx0]
            return np.round(p).astype(np.int32)

        top = 0.55 if v.size[1] < 3 else 0.75
        cv2.fillConvexPoly(image, band(top, 0.92, 0.1, 0.9), (35, 40, 48))  # window
        light = (250, 240, 200) if v.oncoming else (200, 20, 20)
        cv2.fillConvexPoly(image, band(0.3, 0.42, 0.04, 0.2), light)
        cv2.fillConvexPoly(image, band(0.3, 0.42, 0.8, 0.96), light)
        cv2.fillConvexPoly(image, band(0.0, 0.12), (30, 30, 30))  # bumper and tyres

    def _truth(self, labels: np.ndarray, full_area: dict):
        """Boxes clipped to the image, visibility (occlusion and truncation) and ignore flags."""
        cfg = self.cfg
        counts = np.bincount(labels.ravel(), minlength=256)
        ids, boxes, vis_boxes, vis, ignored = [], [], [], [], []
        for i, (area, uv) in full_area.items():
            box = np.array([uv[:, 0].min(), uv[:, 1].min(), uv[:, 0].max(), uv[:, 1].max()])
            clipped = np.clip(box, 0, [cfg.width, cfg.height] * 2)
            if clipped[2] - clipped[0] < 1 or clipped[3] - clipped[1] < 1:
                continue
            visibility = min(1.0, counts[i + 1] / max(area, 1.0))
            vb = np.full(4, np.nan)
            if counts[i + 1]:
                x1, y1, x2, y2 = clipped.astype(int)
                ys, xs = np.nonzero(labels[y1:y2 + 1, x1:x2 + 1] == i + 1)
                if len(xs):
                    vb = np.array([x1 + xs.min(), y1 + ys.min(), x1 + xs.max() + 1, y1 + ys.max() + 1], float)
            ids.append(self.vehicles[i].vid)
            boxes.append(clipped)
            vis_boxes.append(vb)
            vis.append(visibility)
            ignored.append(visibility < cfg.min_visibility or clipped[3] - clipped[1] < cfg.min_height)
        return synthetic.FrameTruth(np.array(ids, np.int64), np.array(boxes).reshape(-1, 4),
                                    np.array(vis_boxes).reshape(-1, 4), np.array(vis, np.float64),
                                    np.array(ignored, bool))

    def detect(self, truth, frame_index: int):
        """Noisy detections of one frame's truth (synthetic.py's detector model; small cars missed)."""
        cfg, rng = self.cfg, self.rng
        boxes, scores = [], []
        for box, vb, v in zip(truth.boxes, truth.visible_boxes, truth.visibility):
            height = box[3] - box[1]
            if v < 0.1 or height < 6:
                continue
            p_detect = (0.97 if v >= 0.7 else 0.3 + 0.67 * (v - 0.1) / 0.6) * min(1.0, height / 16)
            if rng.random() > p_detect:
                continue
            base = box if v >= 0.9 else 0.4 * box + 0.6 * vb
            w, h = base[2] - base[0], base[3] - base[1]
            centre = (base[:2] + base[2:]) / 2 + rng.normal(0, 0.035, 2) * (w, h)
            size = np.array([w, h]) * np.exp(rng.normal(0, 0.05, 2))
            boxes.append(np.concatenate([centre - size / 2, centre + size / 2]))
            scores.append(np.clip(0.15 + 0.8 * v * min(1.0, height / 20) + rng.normal(0, 0.07), 0.05, 0.99))
        for _ in range(rng.poisson(cfg.false_positives_per_frame)):
            cy = rng.uniform(0.5, 0.8) * cfg.height
            h = rng.uniform(12, 60)
            cx = rng.uniform(0, cfg.width)
            boxes.append(np.array([cx - 0.65 * h, cy - h / 2, cx + 0.65 * h, cy + h / 2]))
            scores.append(rng.uniform(0.1, 0.6))
        if not boxes:
            return np.zeros((0, 4)), np.zeros(0)
        boxes = np.clip(np.array(boxes), 0, [cfg.width, cfg.height] * 2)
        keep = (boxes[:, 2] - boxes[:, 0] > 2) & (boxes[:, 3] - boxes[:, 1] > 2)
        boxes, scores = boxes[keep], np.array(scores)[keep]
        order = rng.permutation(len(boxes))
        return boxes[order], scores[order]


def write_sequence(seq_dir: str, cfg: DashcamConfig, progress: bool = True):
    """Render one dashcam sequence into ``seq_dir`` (MOTChallenge layout)."""
    return synthetic.write_sequence(seq_dir, cfg, progress, generator=DashcamGenerator(cfg))


def sequence_name(seed: int, index: int = 0) -> str:
    """Folder name of generated dashcam sequence ``index`` for a seed."""
    return f'SYN-DASHCAM-S{seed}-{index:02d}'


def main(argv=None) -> int:
    """``perception-make-mot-dashcam``-style entry: write dashcam sequences."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', required=True, help='output folder; one sub-folder per sequence')
    parser.add_argument('--seqs', type=int, default=1)
    parser.add_argument('--frames', type=int, default=300)
    parser.add_argument('--width', type=int, default=640)
    parser.add_argument('--height', type=int, default=360)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    for i in range(args.seqs):
        folder = os.path.join(args.out, sequence_name(args.seed, i))
        write_sequence(folder, DashcamConfig(width=args.width, height=args.height, frames=args.frames,
                                             seed=args.seed * 1000 + i))
        print(folder)
    return 0


if __name__ == '__main__':
    sys.exit(main())
