"""Latency and memory of the running node graph over DDS, 720p frames at 30 Hz (--rate).

Two measurements, each with the real node executables in their own processes:
- `tracker`: this process publishes images and ready-made detections (15 moving boxes) with the
  same stamp; latency = arrival of `tracks` minus the image stamp. No detector inference is in
  the loop, so this is the pipeline's own latency (DDS hops, stamp pairing, tracking, message
  building), once with motion only and once with the default appearance embedder.
- `graph`: images only, through detector_node (HOG fallback, or --backend/--weights) and
  tracker_node (`--duration 600` for the 10-minute soak).

"Minus inference" is per frame: the nodes run with `--log-level <node>:=debug` and log every
frame's stage times (`perception_ros_glue.frame_timing`); a frame's stamp -> tracks latency
minus the detector's inference time on that same frame (matched by stamp). Stage medians
(DDS arrival, pairing, decode, tracker update, message building, publishing, the detector's
wait for its worker) go into the JSON as `stages_ms`. Every node's resident memory is sampled
every --sample-period s (`rss_curve`: seconds since the first frame, MiB) and fitted by a line
over the last --slope-minutes minutes after warm-up (`rss_slope_mib_per_min`); a PNG of the
curve goes next to the JSON.

    python benchmarks/bench_pipeline.py                       # 60 s each
    python benchmarks/bench_pipeline.py --only graph --duration 600 --output pipeline_soak
Writes benchmarks/results/pipeline.json (and pipeline_rss.png).
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

from perception_ros_glue.frame_timing import parse_timing
from perception_ros_glue.ros_conversions import stamp_to_ns
from perception_ros_glue.ros_testing import NodeProcess, close_test_node, make_test_node, spin_until
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


def rss_slope(curve, warmup_s, window_min):
    """Least-squares slope [MiB/min] of `curve` [(s, MiB)] over the last `window_min` minutes
    after `warmup_s`; None with fewer than 3 samples there."""
    t = np.array([p[0] for p in curve], dtype=float)
    mib = np.array([p[1] for p in curve], dtype=float)
    keep = (t >= warmup_s) & (t >= t[-1] - 60.0 * window_min) if t.size else t.astype(bool)
    if keep.sum() < 3:
        return None
    return float(np.polyfit(t[keep] / 60.0, mib[keep], 1)[0])


def stage_medians(frames):
    """Median of every stage over the frames of a timing log ({stamp: {stage: ms}})."""
    stages = {}
    for times in frames.values():
        for k, v in times.items():
            stages.setdefault(k, []).append(v)
    return {k: round(float(np.median(v)), 3) for k, v in stages.items()}


def median_or_none(values):
    """Median of a non-empty list, else None."""
    return float(np.median(values)) if len(values) else None


def plot_rss(runs, path):
    """Resident memory of every node against time, one panel per run (skipped without
    matplotlib)."""
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, axes = plt.subplots(1, len(runs), figsize=(5 * len(runs), 3.5), squeeze=False)
    for ax, (name, r) in zip(axes[0], runs.items()):
        for node, curve in r['rss_curve'].items():
            slope = r['rss_slope_mib_per_min'].get(node)
            label = node + (f' ({slope:+.2f} MiB/min)' if slope is not None else '')
            ax.plot([p[0] / 60.0 for p in curve], [p[1] for p in curve], label=label)
        ax.set_title(name)
        ax.set_xlabel('minutes')
        ax.set_ylabel('RSS [MiB]')
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


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
    # Debug level on the nodes' own loggers only: one timing line per frame.
    procs = [NodeProcess(exe, ros_args + ['--log-level', f'{exe}:=debug'])
             for exe, ros_args in nodes]
    names = [exe for exe, _ in nodes]
    context, node, executor = make_test_node(f'bench_pipeline_{name}')
    arrivals = {}

    def on_tracks(msg, info):
        # Callback time, and the DDS times: published by the tracker, received here.
        arrivals.setdefault(stamp_to_ns(msg.header.stamp), (
            time.time(), info['source_timestamp'] * 1e-9, info['received_timestamp'] * 1e-9))
    node.create_subscription(TrackedObjectArray, 'tracks', on_tracks, 10)
    pub_image = node.create_publisher(Image, 'image', qos_profile_sensor_data)
    pub_det = node.create_publisher(Detection2DArray, 'detections', 10)
    pixels = np.random.default_rng(0).integers(0, 255, HEIGHT * WIDTH * 3, dtype=np.uint8)
    image = Image(height=HEIGHT, width=WIDTH, encoding='rgb8', step=WIDTH * 3,
                  data=pixels.tobytes())
    image.header.frame_id = 'camera'
    memory = {name: [] for name in names}
    try:
        endpoints = [pub_image] + ([pub_det] if publish_detections else [])
        ok = spin_until(executor, lambda: all(e.get_subscription_count() for e in endpoints)
                        and node.count_publishers('tracks'), 120)
        assert ok, 'nodes did not come up: ' + ' '.join(p.output()[-2000:] for p in procs)
        time.sleep(2.0)  # discovery settles; the goals are about steady state
        sent, start, next_sample = [], time.monotonic(), 0.0
        for i in range(int(args.duration * args.rate)):
            while time.monotonic() < start + i / args.rate:
                executor.spin_once(timeout_sec=max(0.0, start + i / args.rate - time.monotonic()))
            now = time.time()
            image.header.stamp.sec, image.header.stamp.nanosec = int(now), int((now % 1) * 1e9)
            if publish_detections:
                pub_det.publish(detection_msg(image.header, moving_boxes(i)))
            pub_image.publish(image)
            sent.append((stamp_to_ns(image.header.stamp), now))
            if time.monotonic() - start >= next_sample:
                for exe, p in zip(names, procs):
                    try:
                        mib = rss_mb(p.proc)
                    except RuntimeError as exc:
                        raise RuntimeError(f'{exc}:\n{p.output()[-3000:]}') from None
                    memory[exe].append((round(time.monotonic() - start, 2), mib))
                next_sample += args.sample_period
        spin_until(executor, lambda: False, 2.0)  # collect the last tracks
        logs = [p.output() for p in procs]
    finally:
        close_test_node(context, node, executor)
        for p in procs:
            p.close()
    received = {s: (arrivals[s][0] - t) * 1000 for s, t in sent if s in arrivals}
    published = {s: (arrivals[s][1] - t) * 1000 for s, t in sent if s in arrivals}
    latencies = np.array(list(received.values()))
    inference = [float(v) for log in logs for v in re.findall(r'mean_inference_ms=([\d.]+)', log)]
    timings = {node: parse_timing(log) for node, log in zip(names, logs)}
    if args.keep_logs:  # per-frame stage lines, for distributions the medians hide
        for node, log in zip(names, logs):
            (RESULTS / f'{args.output}_{name}_{node}.log').write_text(log)
    result = {'frames_sent': len(sent), 'tracks_received': int(latencies.size),
              'latency_ms_median': float(np.median(latencies)) if latencies.size else None,
              'latency_ms_p95': float(np.percentile(latencies, 95)) if latencies.size else None,
              # The same, up to the tracker's publish call (DDS source timestamp): no tracks
              # hop and no wait in this process.
              'stamp_to_published_ms_median': median_or_none(list(published.values())),
              'detector_mean_inference_ms': inference[-1] if inference else None,
              'stages_ms': {node: stage_medians(frames) for node, frames in timings.items()},
              'rss_mib': {k: {'first': v[0][1], 'last': v[-1][1], 'max': max(m for _, m in v)}
                          for k, v in memory.items() if v},
              'rss_curve': memory,
              'rss_slope_mib_per_min': {k: rss_slope(v, args.warmup, args.slope_minutes)
                                        for k, v in memory.items() if v},
              'rss_slope_window': {'warmup_s': args.warmup, 'last_minutes': args.slope_minutes}}
    # The bench's own receive time minus the tracker's publish time: tracks DDS hop + spin.
    tracker = timings.get('tracker_node', {})
    result['stages_ms']['bench'] = {
        'tracks_in_after_tracks_out': median_or_none(
            [received[s] - tracker[s]['tracks_out'] for s in received if s in tracker]),
        'tracks_dds': median_or_none([(arrivals[s][2] - t) * 1000 for s, t in sent if s in arrivals])}
    detector = timings.get('detector_node')
    if detector is not None:
        # Per frame: this frame's latency minus this frame's inference (and its wait for the
        # worker, busy with an earlier frame: the other cost of inference slower than the camera).
        frame_inference = {s: detector[s]['inference'] for s in received if s in detector}
        waited = {s: frame_inference[s] + detector[s]['picked'] - detector[s]['image_in']
                  for s in frame_inference}
        result['latency_minus_inference_ms_median'] = median_or_none(
            [received[s] - frame_inference[s] for s in frame_inference])
        result['published_minus_inference_ms_median'] = median_or_none(
            [published[s] - frame_inference[s] for s in frame_inference])
        result['latency_minus_inference_and_queue_ms_median'] = median_or_none(
            [received[s] - waited[s] for s in frame_inference])
        # The same up to the tracker's publish call: the figure, without the bench's
        # own receive (its executor shares the machine with the graph).
        result['published_minus_inference_and_queue_ms_median'] = median_or_none(
            [published[s] - waited[s] for s in frame_inference])
        result['frames_with_inference_time'] = len(frame_inference)
    print(name, json.dumps({k: v for k, v in result.items() if k != 'rss_curve'}), flush=True)
    return result


def main():
    """Run the selected measurements, print a table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--duration', type=float, default=60.0,
                        help='seconds of frames per run')
    parser.add_argument('--rate', type=float, default=30.0,
                        help='camera rate in Hz (default 30; lower lets a slow detector keep up)')
    parser.add_argument('--only', choices=['tracker', 'graph'])
    parser.add_argument('--backend', default='hog')
    parser.add_argument('--weights', default='')
    parser.add_argument('--inference-threads', type=int, default=0,
                        help="graph run: detector_node's inference_threads (0 = every core)")
    parser.add_argument('--embedders', nargs='+', default=['none', 'mobilenetv2'],
                        help='tracker runs: one per embedder')
    parser.add_argument('--sample-period', type=float, default=5.0,
                        help='seconds between resident-memory samples')
    parser.add_argument('--warmup', type=float, default=30.0,
                        help='seconds of start-up left out of the memory slope')
    parser.add_argument('--slope-minutes', type=float, default=5.0,
                        help='the memory slope is fitted over the last this many minutes')
    parser.add_argument('--keep-logs', action='store_true',
                        help='keep the node logs (per-frame stage lines): '
                        'benchmarks/results/<output>_<run>_<node>.log')
    parser.add_argument('--output', default='pipeline',
                        help='results name: benchmarks/results/<output>.json and _rss.png')
    args = parser.parse_args()
    params = ['--params-file', str(CONFIG)]
    runs = {}
    if args.only in (None, 'tracker'):
        for embedder in args.embedders:
            runs[f'tracker_{embedder}'] = run(args, f'tracker_{embedder}', [
                ('tracker_node', params + ['-p', f'embedder:={embedder}',
                                           '-p', 'publish_annotated:=false'])],
                publish_detections=True)
    if args.only in (None, 'graph'):
        runs['graph'] = run(args, 'graph', [
            ('detector_node', params + ['-p', f'backend:={args.backend}',
                                        '-p', 'diagnostics_period_s:=5.0',
                                        '-p', f'inference_threads:={args.inference_threads}']
             + (['-p', f'weights:={args.weights}'] if args.weights else [])),
            ('tracker_node', params)], publish_detections=False)
    print(f'\n{WIDTH}x{HEIGHT} rgb8 at {args.rate:g} Hz, {args.duration:g} s per run, '
          'nodes in their own processes\n')
    print('| run | frames sent | tracks received | latency median | p95 | to publish median '
          '| minus inference, per frame (median) | node RSS first → last (max) MiB '
          '| RSS slope after warm-up MiB/min |')
    print('|---|---|---|---|---|---|---|---|---|')
    for name, r in runs.items():
        rss = '; '.join(f"{k} {v['first']:.0f} → {v['last']:.0f} ({v['max']:.0f})"
                        for k, v in r['rss_mib'].items())
        slope = '; '.join(f'{k} {v:+.2f}' if v is not None else f'{k} n/a'
                          for k, v in r['rss_slope_mib_per_min'].items())
        minus = r.get('latency_minus_inference_ms_median')
        print(f"| {name} | {r['frames_sent']} | {r['tracks_received']} "
              f"| {r['latency_ms_median']:.1f} ms | {r['latency_ms_p95']:.1f} ms "
              f"| {r['stamp_to_published_ms_median']:.1f} ms "
              f"| {'%.1f ms' % minus if minus is not None else 'n/a (no detector)'} "
              f"| {rss} | {slope} |")
    for name, r in runs.items():
        print(f'\n{name} stage medians [ms]:')
        for node, stages in r['stages_ms'].items():
            print(f'  {node}: ' + ' '.join(f'{k}={v:.2f}' for k, v in stages.items()
                                          if v is not None))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f'{args.output}.json').write_text(json.dumps({
        'machine': {'cpus': os.cpu_count(), 'platform': platform.platform(),
                    'python': sys.version.split()[0]},
        'settings': vars(args), 'runs': runs}, indent=2))
    png = plot_rss(runs, RESULTS / f'{args.output}_rss.png')
    print(f'\nwrote {RESULTS / args.output}.json' + (f' and {png}' if png else ''))


if __name__ == '__main__':
    main()
