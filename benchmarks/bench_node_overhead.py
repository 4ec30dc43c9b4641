"""Detector node overhead: its per-frame path versus calling the model directly, at 1280x720.

The node's path is image message -> numpy (image_to_rgb) -> Detector.detect -> messages
(detections_to_msgs), the same library calls detector_node makes, in process and without DDS.
The direct path is Detector.detect on the same frame already in memory as RGB. Both run on the
same frames, interleaved, so machine load hits them alike. Also measures the image-to-array
conversion (microseconds) and checks that no pixel is copied on the way in.

    python benchmarks/bench_node_overhead.py                # hog + random-init Mask R-CNN
    python benchmarks/bench_node_overhead.py --frames 20 --backends hog

Mask R-CNN runs on rgb8 only and on fewer frames (it is slow on CPU; with random weights it
keeps 100 detections with masks, the conversion's worst case); the bgr8 colour conversion cost
does not depend on the model and is measured with hog and in the conversion table.

Goal: overhead < max(5 %, 5 ms) per frame. Writes benchmarks/results/node_overhead.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import ultralytics
from std_msgs.msg import Header
from tqdm import tqdm

from perception_maskrcnn.backends import create_detector
from perception_ros_glue.image_conversion import array_to_image, image_to_array, image_to_rgb
from perception_ros_glue.ros_conversions import detections_to_msgs

RESULTS = Path(__file__).resolve().parent / 'results'
WIDTH, HEIGHT = 1280, 720
BUS_JPG = Path(ultralytics.__file__).parent / 'assets' / 'bus.jpg'


def make_frames(count: int) -> list[np.ndarray]:
    """``count`` different 1280x720 RGB frames: a street photo panned across a wider canvas."""
    bgr = cv2.imread(str(BUS_JPG))
    if bgr is None:
        raise SystemExit(f'cannot read {BUS_JPG} (shipped by the ultralytics package)')
    scale = HEIGHT / bgr.shape[0]
    photo = cv2.cvtColor(cv2.resize(bgr, None, fx=scale, fy=scale), cv2.COLOR_BGR2RGB)
    canvas = np.zeros((HEIGHT, 2 * WIDTH, 3), np.uint8)
    canvas[:, :photo.shape[1]] = photo
    canvas[:, WIDTH:WIDTH + photo.shape[1]] = photo[:, ::-1]
    step = max(1, (canvas.shape[1] - WIDTH) // max(count, 1))
    return [np.ascontiguousarray(canvas[:, i * step:i * step + WIDTH]) for i in range(count)]


def timed(fn, *args):
    """``(result, seconds)`` of one call."""
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def median_ms(values) -> float:
    """Median of seconds, in milliseconds."""
    return 1000.0 * statistics.median(values)


def bench_backend(name: str, detector, frames: list[np.ndarray], encoding: str) -> dict:
    """Node path vs direct model call over ``frames``; per-stage medians in ms."""
    header = Header(frame_id='camera')
    messages = [array_to_image(f if encoding == 'rgb8' else f[..., ::-1].copy(), encoding, header)
                for f in frames]
    detector.detect(frames[0])  # warm-up outside the measurement
    rows = {'direct': [], 'node': [], 'to_array': [], 'to_msgs': [], 'detections': []}
    for i, (frame, msg) in enumerate(tqdm(list(zip(frames, messages)), desc=f'{name} {encoding}')):
        # Alternate which path runs first so that drifting load does not favour one.
        order = ('direct', 'node') if i % 2 == 0 else ('node', 'direct')
        for path in order:
            if path == 'direct':
                _, seconds = timed(detector.detect, frame)
                rows['direct'].append(seconds)
                continue
            start = time.perf_counter()
            image, convert_s = timed(image_to_rgb, msg)
            detections = detector.detect(image)
            _, to_msgs_s = timed(detections_to_msgs, detections, msg.header, image.shape[1],
                                 image.shape[0])
            rows['node'].append(time.perf_counter() - start)
            rows['to_array'].append(convert_s)
            rows['to_msgs'].append(to_msgs_s)
            rows['detections'].append(len(detections))
    direct, node = median_ms(rows['direct']), median_ms(rows['node'])
    stages = median_ms([a + b for a, b in zip(rows['to_array'], rows['to_msgs'])])
    goal_ms = max(0.05 * direct, 5.0)
    return {
        'backend': name, 'encoding': encoding, 'frames': len(frames),
        'detector': detector.describe(),
        'median_detections': statistics.median(rows['detections']),
        'direct_ms': direct, 'node_ms': node,
        'overhead_ms': node - direct, 'overhead_pct': 100.0 * (node - direct) / direct,
        # The node's own work measured stage by stage: not blurred by model-time noise.
        'node_stages_ms': stages, 'node_stages_pct': 100.0 * stages / direct,
        'to_array_ms': median_ms(rows['to_array']), 'to_msgs_ms': median_ms(rows['to_msgs']),
        'goal_ms': goal_ms, 'meets_goal': stages < goal_ms,
    }


def bench_conversion(frame: np.ndarray, repeats: int) -> list[dict]:
    """Microseconds of image message -> array per encoding, and whether pixels were copied."""
    out = []
    for encoding, pixels, fn in (('rgb8', frame, image_to_array), ('rgb8', frame, image_to_rgb),
                                 ('bgr8', frame[..., ::-1].copy(), image_to_array),
                                 ('bgr8', frame[..., ::-1].copy(), image_to_rgb)):
        msg = array_to_image(pixels, encoding)
        times = [timed(fn, msg)[1] for _ in range(repeats)]
        shares = bool(np.shares_memory(fn(msg), np.frombuffer(msg.data, np.uint8)))
        out.append({'encoding': encoding, 'function': fn.__name__,
                    'median_us': 1e6 * statistics.median(times), 'no_pixel_copy': shares})
    return out


def machine() -> dict:
    """Where the figures were taken (shared CPUs make absolute times noisy)."""
    import torch
    return {'platform': platform.platform(), 'python': platform.python_version(),
            'cpu_count': os.cpu_count(), 'load_avg_1min': os.getloadavg()[0],
            'torch': torch.__version__, 'torch_threads': torch.get_num_threads(),
            'opencv': cv2.__version__}


def build(backend: str, input_size: int):
    """The detectors compared: HOG, or Mask R-CNN with random weights at a reduced input size."""
    if backend == 'hog':
        return create_detector('hog', device='cpu')
    # Threshold 0 keeps up to 100 random detections with masks: the conversion's worst case.
    return create_detector(backend, None, 'cpu', 0.0, None, 100, allow_random_init=True,
                           min_size=input_size, max_size=input_size * 16 // 9)


def main(argv=None) -> int:
    """Run the benchmark, print a markdown table, write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--frames', type=int, default=10, help='hog frames (default 10)')
    parser.add_argument('--maskrcnn-frames', type=int, default=3,
                        help='Mask R-CNN frames (default 3: about a minute each on a busy CPU)')
    parser.add_argument('--backends', nargs='+', default=['hog', 'maskrcnn'],
                        choices=['hog', 'maskrcnn', 'maskrcnn_v2'], help='detectors to compare')
    parser.add_argument('--input-size', type=int, default=360,
                        help='Mask R-CNN short side [px] (default 360: CPU-friendly)')
    parser.add_argument('--out', type=Path, default=RESULTS / 'node_overhead.json',
                        help='results file (default benchmarks/results/node_overhead.json)')
    args = parser.parse_args(argv)
    frames = make_frames(max(args.frames, args.maskrcnn_frames))
    results = []
    for backend in args.backends:
        detector = build(backend, args.input_size)
        if backend == 'hog':
            for encoding in ('rgb8', 'bgr8'):
                results.append(bench_backend(backend, detector, frames[:args.frames], encoding))
        else:
            results.append(bench_backend(backend, detector, frames[:args.maskrcnn_frames], 'rgb8'))
    conversion = bench_conversion(frames[0], repeats=200)
    report = {'resolution': [WIDTH, HEIGHT], 'machine': machine(), 'node_path': results,
              'image_to_array': conversion}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))

    print('\n| backend | input | dets | direct ms | node ms | overhead ms (%) | node stages ms (%) '
          '| goal ms | ok |')
    print('|---|---|---|---|---|---|---|---|---|')
    for r in results:
        print(f"| {r['backend']} | {r['encoding']} | {r['median_detections']:.0f} "
              f"| {r['direct_ms']:.1f} "
              f"| {r['node_ms']:.1f} | {r['overhead_ms']:+.1f} ({r['overhead_pct']:+.1f}%) "
              f"| {r['node_stages_ms']:.2f} ({r['node_stages_pct']:.2f}%) | {r['goal_ms']:.1f} "
              f"| {'yes' if r['meets_goal'] else 'NO'} |")
    print('\n| image message -> array | encoding | median µs | no pixel copy |')
    print('|---|---|---|---|')
    for c in conversion:
        print(f"| {c['function']} | {c['encoding']} | {c['median_us']:.1f} "
              f"| {c['no_pixel_copy']} |")
    print(f'\nwrote {args.out}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
