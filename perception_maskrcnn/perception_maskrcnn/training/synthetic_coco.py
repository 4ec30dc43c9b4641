"""Synthetic COCO-format instance-segmentation datasets: 'car' and 'person' shapes over texture.

Each image holds a few objects drawn back to front, so later objects occlude earlier ones;
masks are the visible parts, stored as COCO RLE. Used by the tests and for quick trials.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from pycocotools import mask as mask_utils
from tqdm import tqdm

CATEGORIES = [{'id': 1, 'name': 'car', 'supercategory': 'vehicle'},
              {'id': 2, 'name': 'person', 'supercategory': 'person'}]
MIN_VISIBLE_FRACTION = 0.35  # objects hidden more than this are left out, like COCO's crowd-less labels


def _background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Textured background: a colour gradient, stripes and pixel noise."""
    base = rng.integers(40, 200, size=3)
    ramp = np.linspace(-40, 40, width)[None, :, None] * rng.uniform(-1, 1, size=3)
    image = np.broadcast_to(base + ramp, (height, width, 3)).astype(np.float32).copy()
    period = rng.uniform(6, 30)
    stripes = np.sin(np.arange(height)[:, None] * 2 * np.pi / period + rng.uniform(0, 6))
    image += stripes[..., None] * rng.uniform(5, 25)
    image += rng.normal(0, 12, size=image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def _draw_car(rng, mask: np.ndarray, image: np.ndarray, cx, cy, size) -> None:
    """A car seen from the side: body, cabin and two dark wheels."""
    w, h = int(size), int(size * rng.uniform(0.4, 0.55))
    x0, y0 = int(cx - w / 2), int(cy - h / 2)
    colour = tuple(int(c) for c in rng.integers(0, 255, size=3))
    shapes = np.zeros_like(mask, dtype=np.uint8)
    cv2.rectangle(shapes, (x0, y0 + h // 3), (x0 + w, y0 + h * 4 // 5), 1, -1)
    cv2.rectangle(shapes, (x0 + w // 4, y0), (x0 + w * 3 // 4, y0 + h // 3), 1, -1)
    image[shapes > 0] = colour
    radius = max(h // 5, 2)
    for wx in (x0 + w // 5, x0 + w * 4 // 5):
        cv2.circle(shapes, (wx, y0 + h * 4 // 5), radius, 1, -1)
        cv2.circle(image, (wx, y0 + h * 4 // 5), radius, (20, 20, 20), -1)
    mask |= shapes > 0


def _draw_person(rng, mask: np.ndarray, image: np.ndarray, cx, cy, size) -> None:
    """A standing person: round head over an elongated body with legs."""
    h, w = int(size), int(size * rng.uniform(0.3, 0.4))
    colour = tuple(int(c) for c in rng.integers(0, 255, size=3))
    skin = (int(rng.integers(150, 255)), int(rng.integers(100, 200)), int(rng.integers(60, 150)))
    shapes = np.zeros_like(mask, dtype=np.uint8)
    top = int(cy - h / 2)
    head = max(h // 10, 2)
    cv2.circle(shapes, (int(cx), top + head), head, 1, -1)
    cv2.ellipse(shapes, (int(cx), top + h * 2 // 5), (w // 2, h // 4), 0, 0, 360, 1, -1)
    for side in (-1, 1):
        cv2.line(shapes, (int(cx), top + h * 3 // 5), (int(cx + side * w / 3), top + h), 1, max(w // 5, 2))
    body = shapes.copy()
    cv2.circle(body, (int(cx), top + head), head, 0, -1)
    image[body > 0] = colour
    cv2.circle(image, (int(cx), top + head), head, skin, -1)
    mask |= shapes > 0


_DRAWERS = {'car': _draw_car, 'person': _draw_person}


def make_scene(rng: np.random.Generator, width: int, height: int, max_objects: int = 3):
    """One RGB image and its visible instance masks with category ids."""
    image = _background(rng, height, width)
    instances = []
    scale = min(width, height)
    for _ in range(int(rng.integers(1, max_objects + 1))):
        category = CATEGORIES[int(rng.integers(len(CATEGORIES)))]
        size = rng.uniform(0.3, 0.6) * scale
        cx, cy = rng.uniform(0.2, 0.8) * width, rng.uniform(0.25, 0.75) * height
        mask = np.zeros((height, width), bool)
        _DRAWERS[category['name']](rng, mask, image, cx, cy, size)
        for earlier in instances:  # this object hides parts of the earlier ones
            earlier['mask'] &= ~mask
        instances.append({'category_id': category['id'], 'mask': mask, 'drawn_area': mask.sum()})
    return image, [i for i in instances if i['mask'].sum() >= MIN_VISIBLE_FRACTION * max(i['drawn_area'], 1)]


def _annotation(instance: dict, image_id: int, annotation_id: int) -> dict:
    """COCO annotation with an RLE mask and the box of the visible part."""
    rle = mask_utils.encode(np.asfortranarray(instance['mask'].astype(np.uint8)))
    x, y, w, h = (float(v) for v in mask_utils.toBbox(rle))
    return {'id': annotation_id, 'image_id': image_id, 'category_id': instance['category_id'],
            'segmentation': {'size': rle['size'], 'counts': rle['counts'].decode('ascii')},
            'area': float(mask_utils.area(rle)), 'bbox': [x, y, w, h], 'iscrowd': 0}


def write_split(out_dir: Path, split: str, count: int, width: int, height: int,
                rng: np.random.Generator) -> Path:
    """Write ``count`` images under ``out_dir/split`` and ``out_dir/instances_<split>.json``."""
    (out_dir / split).mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for image_id in tqdm(range(1, count + 1), desc=f'{split} images', unit='img'):
        image, instances = make_scene(rng, width, height)
        file_name = f'{split}/{image_id:06d}.png'
        cv2.imwrite(str(out_dir / file_name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        images.append({'id': image_id, 'file_name': file_name, 'width': width, 'height': height})
        for instance in instances:
            annotations.append(_annotation(instance, image_id, len(annotations) + 1))
    path = out_dir / f'instances_{split}.json'
    path.write_text(json.dumps({'images': images, 'annotations': annotations, 'categories': CATEGORIES}))
    return path


def make_dataset(out_dir, train: int, val: int, width: int = 128, height: int = 128, seed: int = 0) -> Path:
    """Generate a train and a val split; returns the dataset root."""
    out_dir = Path(out_dir)
    rng = np.random.default_rng(seed)
    write_split(out_dir, 'train', train, width, height, rng)
    write_split(out_dir, 'val', val, width, height, rng)
    return out_dir


def _size(text: str) -> tuple[int, int]:
    """argparse type for WxH."""
    try:
        width, height = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'size must look like 320x240, got {text!r}') from None
    if width < 32 or height < 32:
        raise argparse.ArgumentTypeError(f'size must be at least 32x32, got {text!r}')
    return width, height


def main(argv=None) -> int:
    """perception-make-coco: write a synthetic COCO instance-segmentation dataset."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', required=True, type=Path, help='dataset root to create')
    parser.add_argument('--train', type=int, default=200, help='number of training images')
    parser.add_argument('--val', type=int, default=50, help='number of validation images')
    parser.add_argument('--size', type=_size, default=(128, 128), help='image size WxH (default 128x128)')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    args = parser.parse_args(argv)
    if args.train < 1 or args.val < 1:
        parser.error('--train and --val must be at least 1')
    root = make_dataset(args.out, args.train, args.val, *args.size, seed=args.seed)
    print(f'wrote {root}/instances_train.json and instances_val.json')
    return 0


if __name__ == '__main__':
    sys.exit(main())
