"""Generate a small synthetic dataset in Market-1501 layout for tests and quick training runs.

Each identity is a person-like sprite with its own clothing colours, shirt pattern, build
and bag; each camera has its own lighting, colour cast, background palette, blur and
viewpoint jitter. The first half of the identities is the training set, the second half is
split into query (one image per identity and camera) and gallery, plus distractor (0000)
and junk (-1) images in the gallery, as in Market-1501.
"""

import argparse
import os
import sys

import cv2
import numpy as np
from tqdm import tqdm

PATTERNS = ('plain', 'hstripes', 'vstripes', 'twotone')


def _random_color(rng, saturation=(0.3, 1.0), value=(0.25, 1.0)):
    hsv = np.uint8([[[rng.integers(0, 180), rng.uniform(*saturation) * 255, rng.uniform(*value) * 255]]])
    return tuple(int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0])


def identity_appearance(pid, seed=0):
    """Return the fixed look of identity ``pid``: colours, pattern, build, bag."""
    rng = np.random.default_rng([seed, pid])
    skin = int(rng.integers(90, 230))
    return {
        'shirt': _random_color(rng),
        'shirt2': _random_color(rng),
        'trousers': _random_color(rng, (0.0, 0.8), (0.1, 0.8)),
        'shoes': _random_color(rng, (0.0, 0.5), (0.05, 0.4)),
        'skin': (skin, int(skin * 0.8), int(skin * 0.65)),
        'hair': _random_color(rng, (0.0, 0.6), (0.05, 0.5)),
        'pattern': PATTERNS[rng.integers(len(PATTERNS))],
        'stripe': int(rng.integers(4, 10)),
        'width': rng.uniform(0.8, 1.15),
        'height': rng.uniform(0.88, 1.0),
        'bag': _random_color(rng) if rng.random() < 0.4 else None,
    }


def camera_conditions(camid, seed=0):
    """Return the fixed conditions of camera ``camid``: gain, colour cast, background, blur."""
    rng = np.random.default_rng([seed, 10_000 + camid])
    return {
        'gain': rng.uniform(0.7, 1.25),
        'cast': rng.uniform(0.9, 1.1, size=3),
        'background': [_random_color(rng, (0.0, 0.4), (0.2, 0.8)) for _ in range(3)],
        'blur': rng.uniform(0.0, 1.2),
        'scale': rng.uniform(0.85, 1.0),
    }


def _draw_shirt(canvas, look, x1, y1, x2, y2):
    cv2.rectangle(canvas, (x1, y1), (x2, y2), look['shirt'], -1)
    step = look['stripe']
    if look['pattern'] == 'hstripes':
        for y in range(y1, y2, 2 * step // 2 + 2):
            cv2.rectangle(canvas, (x1, y), (x2, min(y + step // 2, y2)), look['shirt2'], -1)
    elif look['pattern'] == 'vstripes':
        for x in range(x1, x2, step):
            cv2.rectangle(canvas, (x, y1), (min(x + step // 2, x2), y2), look['shirt2'], -1)
    elif look['pattern'] == 'twotone':
        cv2.rectangle(canvas, (x1, (y1 + y2) // 2), (x2, y2), look['shirt2'], -1)


def render_person(look, camera, rng, size=(128, 64)):
    """Draw one RGB uint8 image of a person with ``look`` seen by ``camera``."""
    height, width = size
    # Draw at 4x and shrink: smooth edges like a real resized detection crop.
    s = 4
    canvas = np.empty((height * s, width * s, 3), np.uint8)
    # Background: the camera's scene palette plus clutter from passers-by of any colour.
    canvas[:] = camera['background'][rng.integers(3)]
    for _ in range(4):
        x, y = rng.integers(0, width * s, 2), rng.integers(0, height * s, 2)
        color = camera['background'][rng.integers(3)] if rng.random() < 0.5 else _random_color(rng)
        cv2.rectangle(canvas, (int(x[0]), int(y[0])), (int(x[1]), int(y[1])), color, -1)
    scale = camera['scale'] * look['height'] * rng.uniform(0.9, 1.05)
    body_h = height * s * scale
    cx = width * s / 2 + rng.normal(0, 2.5 * s)
    top = height * s - body_h - rng.uniform(0, 0.06) * height * s
    half_w = width * s * 0.3 * look['width'] * rng.uniform(0.9, 1.1)

    def y(frac):
        """Pixel row at a fraction of the body height."""
        return int(top + frac * body_h)

    def x(frac):
        """Pixel column at a multiple of the half body width from the centre."""
        return int(cx + frac * half_w)

    legs = rng.uniform(0.0, 0.45)  # stride: legs apart by a pose-dependent amount
    for side in (-1, 1):
        cv2.line(canvas, (x(side * 0.45), y(0.55)), (x(side * (0.45 + legs)), y(0.95)), look['trousers'],
                 int(0.4 * half_w))
        cv2.ellipse(canvas, (x(side * (0.5 + legs)), y(0.97)), (int(0.3 * half_w), int(0.1 * half_w)), 0, 0, 360,
                    look['shoes'], -1)
    _draw_shirt(canvas, look, x(-1), y(0.2), x(1), y(0.58))
    arm = rng.uniform(-0.2, 0.2)
    for side in (-1, 1):
        cv2.line(canvas, (x(side * 1.1), y(0.22)), (x(side * (1.2 + arm)), y(0.52)), look['shirt'], int(0.3 * half_w))
        cv2.circle(canvas, (x(side * (1.2 + arm)), y(0.54)), int(0.15 * half_w), look['skin'], -1)
    cv2.ellipse(canvas, (x(0), y(0.1)), (int(0.45 * half_w), int(0.09 * body_h)), 0, 0, 360, look['skin'], -1)
    cv2.ellipse(canvas, (x(0), y(0.05)), (int(0.47 * half_w), int(0.05 * body_h)), 0, 180, 360, look['hair'], -1)
    if look['bag'] is not None:
        side = 1 if rng.random() < 0.5 else -1  # viewpoint: the bag shows on either side
        cv2.rectangle(canvas, (x(side * 0.9), y(0.25)), (x(side * 1.4), y(0.5)), look['bag'], -1)
    image = cv2.resize(canvas, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32)
    image *= camera['gain'] * camera['cast'] * rng.uniform(0.9, 1.1)
    if camera['blur'] > 0.3:
        image = cv2.GaussianBlur(image, (0, 0), camera['blur'])
    image += rng.normal(0, 6, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def _write(folder, pid, camid, frame, image):
    name = f'{pid:04d}_c{camid}s1_{frame:06d}_00.jpg' if pid >= 0 else f'-1_c{camid}s1_{frame:06d}_00.jpg'
    path = os.path.join(folder, name)
    if not cv2.imwrite(path, cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
        raise OSError(f'cannot write {path}')


def make_market(out, ids=40, cameras=4, images_per_camera=3, distractors=10, seed=0, size=(128, 64), progress=True):
    """Write the dataset under ``out``; returns a dict with the number of images per split."""
    if ids < 4 or cameras < 2:
        raise ValueError('need at least 4 identities and 2 cameras (train and test halves, cross-camera queries)')
    folders = {k: os.path.join(out, k) for k in ('bounding_box_train', 'query', 'bounding_box_test')}
    for folder in folders.values():
        os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    cams = {c: camera_conditions(c, seed) for c in range(1, cameras + 1)}
    counts = dict.fromkeys(folders, 0)
    frame = 0
    n_train = ids // 2
    for pid in tqdm(range(1, ids + 1), desc='identities', disable=not progress):
        look = identity_appearance(pid, seed)
        # Every identity is seen by at least two cameras, as in Market-1501.
        seen_by = rng.choice(cameras, size=rng.integers(2, cameras + 1), replace=False) + 1
        for camid in sorted(seen_by):
            for k in range(images_per_camera):
                frame += 1
                if pid <= n_train:
                    split = 'bounding_box_train'
                else:
                    split = 'query' if k == 0 else 'bounding_box_test'
                _write(folders[split], pid, int(camid), frame, render_person(look, cams[camid], rng, size))
                counts[split] += 1
    for i in range(distractors):
        frame += 1
        camid = int(rng.integers(1, cameras + 1))
        # Distractors: strangers (0000) and junk (-1) crops; both have ids never used elsewhere.
        look = identity_appearance(100_000 + i, seed)
        _write(folders['bounding_box_test'], 0 if i % 2 == 0 else -1, camid, frame,
               render_person(look, cams[camid], rng, size))
        counts['bounding_box_test'] += 1
    return counts


def main(argv=None):
    """Command line: perception-make-market --out DIR [--ids N --cameras C ...]."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', required=True, help='output folder (Market-1501 layout is created inside)')
    parser.add_argument('--ids', type=int, default=40, help='number of identities, half train, half test (default 40)')
    parser.add_argument('--cameras', type=int, default=4, help='number of cameras (default 4)')
    parser.add_argument('--images-per-camera', type=int, default=3, help='images per identity and camera (default 3)')
    parser.add_argument('--distractors', type=int, default=10, help='0000/-1 gallery distractors (default 10)')
    parser.add_argument('--height', type=int, default=128, help='image height (default 128)')
    parser.add_argument('--width', type=int, default=64, help='image width (default 64)')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default 0)')
    args = parser.parse_args(argv)
    try:
        counts = make_market(args.out, args.ids, args.cameras, args.images_per_camera, args.distractors,
                             args.seed, (args.height, args.width))
    except (ValueError, OSError) as exc:
        print(f'perception-make-market: error: {exc}', file=sys.stderr)
        return 2
    print(f'wrote {args.out}: ' + ', '.join(f'{k} {v}' for k, v in counts.items()))
    return 0


if __name__ == '__main__':
    sys.exit(main())
