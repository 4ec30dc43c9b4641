"""perception-detect: run a detector over a video or an image folder, write MOTChallenge detections.

Output rows are ``frame,-1,x,y,w,h,score,-1,-1,-1`` with frames numbered from 1 (the format
the tracker tools read). With ``--masks-dir``, each frame with detections gets ``<frame:06d>.npz``
holding ``boxes`` (N,4 xyxy), ``scores``, ``class_ids``, ``class_names``, ``origins`` (N,2 x0,y0)
and ``mask_<i>`` (bool box window of detection i, pasted at ``origins[i]``).
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from ..backends import BACKENDS, WeightsError
from ..frame_detector import MODEL_PARAMETERS, FrameDetector
from perception_ros_glue.image_files import read_rgb
from perception_ros_glue.mot_rows import write_detections
from perception_ros_glue.visualization import color_for, draw_instances

IMAGE_SUFFIXES = {'.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff'}


class InputError(ValueError):
    """The --input is missing or unreadable."""


def open_frames(source: Path):
    """``(count, fps, iterator of RGB frames)`` for a video file or a folder of images (sorted)."""
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise InputError(f'{source}: folder holds no images ({", ".join(sorted(IMAGE_SUFFIXES))})')

        def images():
            for path in files:
                image = read_rgb(path)
                if image is None:
                    raise InputError(f'cannot read image {path}')
                yield image
        return len(files), 10.0, images()
    if not source.is_file():
        raise InputError(f'input not found: {source} (expected a video file or an image folder)')
    capture = cv2.VideoCapture(str(source))
    if not capture.isOpened():
        raise InputError(f'{source}: OpenCV cannot open it as a video')
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    fps = capture.get(cv2.CAP_PROP_FPS) or 10.0

    def frames():
        try:
            while True:
                ok, frame = capture.read()
                if not ok:
                    return
                yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        finally:
            capture.release()
    return count, fps, frames()


def save_masks(path: Path, detections) -> None:
    """One frame's box-window masks and their placement as an .npz (layout in the module doc)."""
    windows = {f'mask_{i}': m for i, m in enumerate(detections.masks)}
    np.savez_compressed(path, boxes=detections.boxes, scores=detections.scores, class_ids=detections.class_ids,
                        class_names=np.array(detections.class_names), origins=detections.mask_origins, **windows)


def run(args) -> int:
    """Detect on every frame; returns the number of frames processed."""
    count, fps, frames = open_frames(args.input)
    # The node's detector from its parameters: the defaults, then what was given here.
    params = {spec.name: spec.default for spec in MODEL_PARAMETERS}
    params.update(backend=args.backend, weights=args.weights or '', device=args.device,
                  score_threshold=args.score_threshold, classes=args.classes or [],
                  max_detections=args.max_detections)
    detector = FrameDetector(params)
    print(f'detector: {detector.describe()}', file=sys.stderr)
    if args.masks_dir:
        args.masks_dir.mkdir(parents=True, exist_ok=True)
    writer = None
    rows_frame, rows_boxes, rows_scores = [], [], []
    frame_number = 0
    try:
        for frame_number, image in enumerate(tqdm(frames, total=count, desc='detecting', unit='frame'), 1):
            detections = detector.detect(image)
            rows_frame += [frame_number] * len(detections)
            rows_boxes.append(detections.boxes)
            rows_scores.append(detections.scores)
            if args.masks_dir and detections.masks is not None and len(detections):
                save_masks(args.masks_dir / f'{frame_number:06d}.npz', detections)
            if args.annotated:
                if writer is None:
                    args.annotated.parent.mkdir(parents=True, exist_ok=True)
                    writer = cv2.VideoWriter(str(args.annotated), cv2.VideoWriter_fourcc(*'mp4v'), fps,
                                             (image.shape[1], image.shape[0]))
                labels = [f'{n} {s:.2f}' for n, s in zip(detections.labels(), detections.scores)]
                drawn = draw_instances(image, detections.boxes, labels, [color_for(n) for n in detections.labels()],
                                       detections.masks, detections.mask_origins)
                writer.write(cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR))
    finally:
        if writer is not None:
            writer.release()
    boxes = np.concatenate(rows_boxes) if rows_boxes else np.zeros((0, 4), np.float32)
    scores = np.concatenate(rows_scores) if rows_scores else np.zeros(0, np.float32)
    write_detections(str(args.out), np.array(rows_frame), boxes, scores)
    return frame_number


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--backend', choices=BACKENDS, default='auto', help='detector backend')
    parser.add_argument('--weights', help="weights file or name (e.g. COCO_V1, yolov5su.pt); "
                        'ultralytics .pt files are pickles: give only trusted files')
    parser.add_argument('--input', required=True, type=Path, help='video file or folder of images')
    parser.add_argument('--out', required=True, type=Path, help='MOTChallenge detection file to write')
    parser.add_argument('--masks-dir', type=Path, help='write one .npz of masks per frame here')
    parser.add_argument('--annotated', type=Path, help='write an annotated .mp4 here')
    parser.add_argument('--score-threshold', type=float, default=0.5)
    parser.add_argument('--classes', nargs='+', help='keep only these class names (e.g. car person)')
    parser.add_argument('--max-detections', type=int, default=100)
    parser.add_argument('--device', default='auto', help='auto|cpu|cuda|cuda:N')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Entry point; user errors print one clear line and exit 2."""
    logging.basicConfig(level=logging.WARNING, format='%(levelname)s %(name)s: %(message)s')
    args = parse_args(argv)
    try:
        frames = run(args)
    except (WeightsError, InputError, ValueError) as error:
        print(f'perception-detect: error: {error}', file=sys.stderr)
        return 2
    print(f'wrote detections of {frames} frames to {args.out}', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
