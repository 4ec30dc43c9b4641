"""Latency and memory of the running node graph over DDS, 720p frames at 30 Hz.

Two measurements, each with the real node executables in their own processes:
- `tracker`: this process publishes images and ready-made detections (15 moving boxes) with the
  same stamp; latency = arrival of `tracks` minus the image stamp. No detector inference is in
  the loop, so this is the pipeline's own latency (DDS hops, stamp pairing, tracking, message
  building), once with motion only and once with the default appearance embedder.
- `graph`: images only, through detector_node (HOG fallback, or --backend/--weights) and
  tracker_node; latency minus the detector's mean inference time (from its counters log), and
  the resident memory of both nodes sampled every 5 s (`--duration 600` for the 10-minute soak).

    python benchmarks/bench_pipeline.py                       # 60 s each
    python benchmarks/bench_pipeline.py --only graph --duration 600
Writes benchmarks/results/pipeline.json.
"""
import argparse
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

import numpy as np
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
from vision_msgs.msg import Detection2D, Detection2DArray, ObjectHypothesisWithPose

from perception_maskrcnn.ros_testing import NodeProcess, close_test_node, make_test_node, spin_until
from perception_msgs.msg import TrackedObjectArray

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / 'benchmarks' / 'results'
CONFIG = ROOT / 'config' / 'tracking.yaml'
WIDTH, HEIGHT, OBJECTS = 1280, 720, 15


def rss_mb(proc):
    """Resident set size of a running process [MiB] from /proc."""
    if proc.poll() is not None:
        raise RuntimeError(f'{proc.args[0]} exited with code {proc.returncode}')
    with open(f'/proc/{proc.pid}/status') as f:
        return int(re.search(r'VmRSS:\s+(\d+)', f.read()).group(1)) / 1024.0


def moving_boxes(i):
    """15 boxes walking across the frame (x1, y1, x2, y2)."""
    k = np.arange(OBJECTS)
    x = (60 + 80 * k + 2.0 * i * (1 + k % 3)) % (WIDTH - 80)
    y = 100 + 30 * k
    return np.stack([x, y, x + 60, y + 150], axis=1)


def detection_msg(header, boxes):
    """A Detection2DArray of `person` boxes."""
    msg = Detection2DArray(header=header)
    for x1, y1, x2, y2 in boxes:
        det = Detection2D(header=header)
        hyp = ObjectHypothesisWithPose()
        hyp.hypothesis.class_id, hyp.hypothesis.score = 'person', 0.9
        det.results.append(hyp)
        det.bbox.center.position.x, det.bbox.center.position.y = (x1 + x2) / 2, (y1 + y2) / 2
        det.bbox.size_x, det.bbox.size_y = float(x2 - x1), float(y2 - y1)
        msg.detections.append(det)
    return msg


def run(args, name, nodes, publish_detections):
    """Start `nodes`, stream frames for args.duration s, return latency and memory figures."""
    procs = [NodeProcess(exe, ros_args) for exe, ros_args in nodes]
    context, node, executor = make_test_node(f'bench_pipeline_{name}')
    arrivals = {}
    node.create_subscription(TrackedObjectArray, 'tracks',
                             lambda m: arrivals.setdefault(
                                 (m.header.stamp.sec, m.header.stamp.nanosec), time.time()), 10)
    pub_image = node.create_publisher(Image, 'image', qos_profile_sensor_data)
    pub_det = node.create_publisher(Detection2DArray, 'detections', 10)
    image = Image(height=HEIGHT, width=WIDTH, encoding='rgb8', step=WIDTH * 3, data=np.random.default_rng(0)
                  .integers(0, 255, HEIGHT * WIDTH * 3, dtype=np.uint8).tobytes())
    image.header.frame_id = 'camera'
    memory = {p.proc.args[0].rsplit('/', 1)[-1]: [] for p in procs}
    try:
        endpoints = [pub_image] + ([pub_det] if publish_detections else [])
        ok = spin_until(executor, lambda: all(e.get_subscription_count() for e in endpoints)
                        and node.count_publishers('tracks'), 120)
        assert ok, 'nodes did not come up: ' + ' '.join(p.output()[-2000:] for p in procs)
        time.sleep(2.0)  # discovery settles; the goals are about steady state
        sent, start, next_sample = [], time.monotonic(), 0.0
        for i in range(int(args.duration * 30)):
            while time.monotonic() < start + i / 30.0:
                executor.spin_once(timeout_sec=max(0.0, start + i / 30.0 - time.monotonic()))
            now = time.time()
            image.header.stamp.sec, image.header.stamp.nanosec = int(now), int((now % 1) * 1e9)
            if publish_detections:
                pub_det.publish(detection_msg(image.header, moving_boxes(i)))
            pub_image.publish(image)
            sent.append((image.header.stamp.sec, image.header.stamp.nanosec, now))
            if time.monotonic() - start >= next_sample:
                for p in procs:
                    memory[p.proc.args[0].rsplit('/', 1)[-1]].append(rss_mb(p.proc))
                next_sample += 5.0
        spin_until(executor, lambda: False, 2.0)  # collect the last tracks
        logs = [p.output() for p in procs]
    finally:
        close_test_node(context, node, executor)
        for p in procs:
            p.close()
    latencies = np.array([(arrivals[(s, ns)] - t) * 1000 for s, ns, t in sent if (s, ns) in arrivals])
    inference = [float(v) for log in logs for v in re.findall(r'mean_inference_ms=([\d.]+)', log)]
    result = {'frames_sent': len(sent), 'tracks_received': int(latencies.size),
              'latency_ms_median': float(np.median(latencies)) if latencies.size else None,
              'latency_ms_p95': float(np.percentile(latencies, 95)) if latencies.size else None,
              'detector_mean_inference_ms': inference[-1] if inference else None,
              'rss_mib': {k: {'first': v[0], 'last': v[-1], 'max': max(v)} for k, v in memory.items() if v}}
    if result['detector_mean_inference_ms'] is not None and latencies.size:
        result['latency_minus_inference_ms_median'] = result['latency_ms_median'] - inference[-1]
    print(name, json.dumps(result), flush=True)
    return result


def main():
    """Run the selected measurements, print a table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--duration', type=float, default=60.0, help='seconds of 30 Hz frames per run')
    parser.add_argument('--only', choices=['tracker', 'graph'])
    parser.add_argument('--backend', default='hog')
    parser.add_argument('--weights', default='')
    args = parser.parse_args()
    params = ['--params-file', str(CONFIG)]
    runs = {}
    if args.only in (None, 'tracker'):
        for embedder in ('none', 'mobilenetv2'):
            runs[f'tracker_{embedder}'] = run(args, f'tracker_{embedder}', [
                ('tracker_node', params + ['-p', f'embedder:={embedder}', '-p', 'publish_annotated:=false'])],
                publish_detections=True)
    if args.only in (None, 'graph'):
        runs['graph'] = run(args, 'graph', [
            ('detector_node', params + ['-p', f'backend:={args.backend}', '-p', 'diagnostics_period_s:=5.0']
             + (['-p', f'weights:={args.weights}'] if args.weights else [])),
            ('tracker_node', params)], publish_detections=False)
    print(f'\n{WIDTH}x{HEIGHT} rgb8 at 30 Hz, {args.duration:g} s per run, nodes in their own processes\n')
    print('| run | frames sent | tracks received | latency median | p95 | minus inference (median) | node RSS first → last (max) MiB |')
    print('|---|---|---|---|---|---|---|')
    for name, r in runs.items():
        rss = '; '.join(f"{k} {v['first']:.0f} → {v['last']:.0f} ({v['max']:.0f})" for k, v in r['rss_mib'].items())
        minus = r.get('latency_minus_inference_ms_median')
        print(f"| {name} | {r['frames_sent']} | {r['tracks_received']} | {r['latency_ms_median']:.1f} ms "
              f"| {r['latency_ms_p95']:.1f} ms | {'%.1f ms' % minus if minus is not None else 'n/a (no detector)'} "
              f"| {rss} |")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / 'pipeline.json').write_text(json.dumps({
        'machine': {'cpus': os.cpu_count(), 'platform': platform.platform(), 'python': sys.version.split()[0]},
        'settings': vars(args), 'runs': runs}, indent=2))


if __name__ == '__main__':
    main()
