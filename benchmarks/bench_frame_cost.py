"""The tracker's cost per camera frame at camera rate: 720p, 20 tracks, detections every 3rd frame.

    python benchmarks/bench_frame_cost.py [--frames 300] [--tracks 20] [--size 1280x720]
        [--every 3] [--delay 2] [--threads 0] [--out benchmarks/results/frame_cost.json]

A generated 720p scene (textured background panning slowly, ``--tracks`` textured people
walking) goes through the tracker node's engine (frame_tracker.FrameTracker) in the order a
live graph sees it: every image arrives and gets its tracks, the detections of every
``--every``-th frame arrive ``--delay`` frames late and are fused (the state replayed). Timed
per call, as the node makes them: ``image`` for a frame without detections (decode excluded:
the node reads the message in place) plus the tracks message built from it, and
``detections`` for a late fusion. Default config (camera motion, box flow, histogram
appearance). Prints median and p95 and writes the JSON.
"""
import argparse
import json
import os
import sys
import time

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def scene(frames, tracks, width, height, seed=0):
    """Yield (RGB frame, boxes (tracks, 4)) of people walking over a slowly panning street."""
    rng = np.random.default_rng(seed)
    world = cv2.resize(rng.integers(0, 255, (height // 8, width // 8 + 80, 3), dtype=np.uint8),
                       (width + 640, height), interpolation=cv2.INTER_LINEAR)
    size = np.column_stack([rng.uniform(40, 70, tracks), rng.uniform(110, 170, tracks)])
    position = rng.uniform([0, 0], [width - 80, height - 180], (tracks, 2))
    velocity = rng.normal(0, 2.0, (tracks, 2)) * [1.0, 0.2]
    looks = [cv2.resize(rng.integers(0, 255, (8, 4, 3), dtype=np.uint8), (int(w), int(h)),
                        interpolation=cv2.INTER_NEAREST) for w, h in size]
    for f in range(frames):
        pan = int(f * 0.5) % 640
        image = world[:, pan:pan + width].copy()
        position = np.clip(position + velocity, [0, 0], [width - size[:, 0].max() - 1,
                                                        height - size[:, 1].max() - 1])
        boxes = np.column_stack([position, position + size])
        for (x1, y1, _, _), look in zip(boxes.astype(int), looks):
            image[y1:y1 + look.shape[0], x1:x1 + look.shape[1]] = look
        yield image, boxes


def main(argv=None):
    """Time the engine and print the figures."""
    from perception_deepsort.config import TrackerConfig
    from perception_deepsort.frame_tracker import TRACKS, FrameTracker
    from perception_deepsort.track_conversions import tracks_to_msg
    from perception_ros_glue.detections import Detections
    from std_msgs.msg import Header

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--frames', type=int, default=300)
    parser.add_argument('--tracks', type=int, default=20)
    parser.add_argument('--size', default='1280x720')
    parser.add_argument('--every', type=int, default=3)
    parser.add_argument('--delay', type=int, default=2)
    parser.add_argument('--threads', type=int, default=0, help='OpenCV threads (0: its default)')
    parser.add_argument('--out', default=os.path.join(HERE, 'results', 'frame_cost.json'))
    args = parser.parse_args(argv)
    if args.threads:
        cv2.setNumThreads(args.threads)
    width, height = (int(v) for v in args.size.split('x'))
    engine = FrameTracker(TrackerConfig())
    engine.expect_masks = False
    late, predicted_ms, fusion_ms, shown = [], [], [], []
    for k, (image, boxes) in enumerate(scene(args.frames, args.tracks, width, height)):
        stamp = int(k / 30 * 1e9)
        if k % args.every == 0:
            late.append((k, stamp, Detections(boxes, np.full(len(boxes), 0.9), np.zeros(len(boxes)),
                                              ['person'])))
        while late and late[0][0] <= k - args.delay:
            _, d_stamp, dets = late.pop(0)
            start = time.perf_counter()
            engine.detections(d_stamp, 'cam', dets, 0.0)
            fusion_ms.append(1000 * (time.perf_counter() - start))
        start = time.perf_counter()
        [output] = [o for o in engine.image(stamp, 'cam', image, 0.0) if o.kind == TRACKS]
        header = Header(frame_id='cam')
        header.stamp.sec, header.stamp.nanosec = divmod(stamp, 10**9)
        tracks_to_msg(output.tracks, header, ['person'])
        if output.detections is None and k >= 30:  # after the tracks are confirmed
            predicted_ms.append(1000 * (time.perf_counter() - start))
            shown.append(sum(t.state == 1 for t in output.tracks))

    def figures(values):
        return {'median_ms': float(np.median(values)), 'p95_ms': float(np.percentile(values, 95)),
                'frames': len(values)}
    report = {'size': args.size, 'tracks': args.tracks, 'every': args.every, 'delay': args.delay,
              'opencv_threads': cv2.getNumThreads(), 'confirmed_tracks_median': float(np.median(shown)),
              'frame_without_detections': figures(predicted_ms), 'late_fusion': figures(fusion_ms),
              'counts': dict(engine.all_counts())}
    print(json.dumps(report, indent=2))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w', encoding='utf8') as f:
        json.dump(report, f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
