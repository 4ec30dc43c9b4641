"""Detector model time per frame at 1280x720 on CPU, per backend (model only, no ROS).

Each backend gets one warm-up frame, then ``--frames`` timed calls of ``Detector.detect`` on
ultralytics' bundled bus.jpg resized to 1280x720. Pretrained weights cannot be downloaded here,
so Mask R-CNN and YOLO run with random weights built offline: the compute per frame is that of
the real architectures (Mask R-CNN at torchvision's 800/1333 resize, YOLO at 640), though the
number of detections (and so mask work) differs from a trained model. Backends run interleaved
frame by frame so load from other processes hits them alike; read the numbers as ratios.

    python benchmarks/bench_detector.py                      # all backends, 3 frames
    python benchmarks/bench_detector.py --backends hog yolo --frames 10

Writes benchmarks/results/detector.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import torch
import ultralytics
from tqdm import tqdm

from perception_maskrcnn.backends import create_detector

RESULTS = Path(__file__).resolve().parent / 'results'
BUS_JPG = Path(ultralytics.__file__).parent / 'assets' / 'bus.jpg'
BACKENDS = ('hog', 'yolo', 'yolo-seg', 'maskrcnn', 'maskrcnn_v2')


def make_detector(name: str, folder: Path):
    """A detector of each kind that needs no download (random weights where weights are needed)."""
    if name in ('yolo', 'yolo-seg'):
        from ultralytics import YOLO
        path = folder / f'{name}.pt'
        YOLO('yolov5su.yaml' if name == 'yolo' else 'yolov8n-seg.yaml').save(path)
        return create_detector('yolo', weights=path, device='cpu')
    if name.startswith('maskrcnn'):
        torch.manual_seed(0)
        return create_detector(name, device='cpu', allow_random_init=True)
    return create_detector(name, device='cpu')


def main() -> None:
    """Time the backends and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--backends', nargs='+', choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument('--frames', type=int, default=3, help='timed frames per backend')
    args = parser.parse_args()
    frame = cv2.cvtColor(cv2.resize(cv2.imread(str(BUS_JPG)), (1280, 720)), cv2.COLOR_BGR2RGB)
    with tempfile.TemporaryDirectory() as folder:
        detectors = {name: make_detector(name, Path(folder)) for name in args.backends}
    for detector in detectors.values():
        detector.detect(frame)  # warm-up: lazy set-up, allocator, caches
    times = {name: {'total': [], 'preprocess': [], 'inference': [], 'postprocess': [], 'detections': []}
             for name in detectors}
    for _ in tqdm(range(args.frames), desc='frames', unit='frame'):
        for name, detector in detectors.items():
            start = time.perf_counter()
            dets = detector.detect(frame)
            times[name]['total'].append(time.perf_counter() - start)
            for stage, seconds in dets.timings.items():
                times[name][stage].append(seconds)
            times[name]['detections'].append(len(dets))
    rows = {name: {key: statistics.median(values) for key, values in t.items()} for name, t in times.items()}
    for name, detector in detectors.items():
        rows[name]['describe'] = detector.describe()
    print(f'{"backend":12}{"total ms":>10}{"pre ms":>9}{"infer ms":>10}{"post ms":>9}{"dets":>6}')
    for name, row in rows.items():
        print(f'{name:12}{row["total"] * 1e3:10.1f}{row["preprocess"] * 1e3:9.1f}'
              f'{row["inference"] * 1e3:10.1f}{row["postprocess"] * 1e3:9.1f}{row["detections"]:6.0f}')
    machine = {'platform': platform.platform(), 'processor': platform.processor(), 'cpus': os.cpu_count(),
               'torch_threads': torch.get_num_threads(), 'torch': torch.__version__,
               'load_average': os.getloadavg()}
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / 'detector.json'
    out.write_text(json.dumps({'image': '1280x720 bus.jpg', 'frames': args.frames, 'median_seconds': rows,
                               'machine': machine}, indent=1))
    print(f'wrote {out}')


if __name__ == '__main__':
    main()
