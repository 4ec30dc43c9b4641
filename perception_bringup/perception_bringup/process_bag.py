"""perception-process-bag: detect and track every frame of bags offline, deterministically.

No DDS: the detector and tracker libraries run in this process, configured from the nodes'
parameter file, and their results go through the nodes' own message conversions. Outputs in
--out-dir: output_bag/ (detections, masks, tracks, track detections, annotated images),
tracks.mp4, tracks.txt (MOTChallenge) and summary.json. Given several bags (folders, globs, list
files), each bag goes to --out-dir/<bag name>/ exactly as if processed alone, in parallel on
local worker processes (--jobs) or on a Ray cluster (--ray-address); batch_summary.json and a
table report every bag, failed ones included.
"""
import argparse
import collections
import os
import random
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from rclpy.serialization import deserialize_message, serialize_message
from tqdm import tqdm

from perception_bringup import bag_io, batch, graph_spec, node_config
from perception_bringup.cli import UserError, user_errors
from perception_bringup.outputs import AnnotatedVideo, TracksTable, write_summary
from perception_deepsort.deep_sort import DeepSort, build_embedder
from perception_deepsort.track_drawing import TrackDrawer
from perception_deepsort.track_conversions import confirmed_detections, tracks_to_msg
from perception_ros_glue.image_conversion import (ImageConversionError, array_to_image,
                                                  compressed_to_rgb, image_to_rgb)
from perception_ros_glue.ros_conversions import detections_to_msgs, msgs_to_detections, stamp_to_ns

PROG = 'perception-process-bag'
DECODERS = {'sensor_msgs/msg/Image': image_to_rgb, 'sensor_msgs/msg/CompressedImage': compressed_to_rgb}
OUTPUT_TYPES = (('/detections', 'vision_msgs/msg/Detection2DArray'),
                ('/detections/masks', 'perception_msgs/msg/InstanceMaskArray'),
                ('/tracks', 'perception_msgs/msg/TrackedObjectArray'),
                ('/tracks/detections', 'vision_msgs/msg/Detection2DArray'),
                ('/tracks/image', 'sensor_msgs/msg/Image'))
TRAIL_LENGTH = 20


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n')[0].split(': ', 1)[1])
    parser.add_argument('in_bags', nargs='+', metavar='IN_BAG',
                        help='input bag(s) with camera images: bag directories, folders holding '
                             'bags, glob patterns (quoted) or list files (one path a line)')
    parser.add_argument('--out-dir', type=Path, required=True, help='output folder (created)')
    parser.add_argument('--config', type=Path, default=graph_spec.DEFAULT_CONFIG,
                        help=f'ROS parameter file of the nodes (default: {graph_spec.DEFAULT_CONFIG})')
    parser.add_argument('--image-topic', default=None,
                        help='image topic (default: the bag\'s only Image/CompressedImage topic)')
    parser.add_argument('--backend', default=None, help='detector backend; default: config')
    parser.add_argument('--weights', default=None, help='detector weights; default: config')
    parser.add_argument('--device', default=None, help='auto | cpu | cuda | cuda:N; default: config')
    parser.add_argument('--max-frames', type=int, default=None, help='process only the first N frames')
    parser.add_argument('--threads', type=int, default=None,
                        help='CPU threads for torch and OpenCV per bag (results are identical for a '
                             'given value; default: the cores divided among the jobs)')
    parser.add_argument('--jobs', type=int, default=None,
                        help='bags processed at once (default: as many as cores, at most the bags)')
    parser.add_argument('--ray-address', default=None,
                        help="run the bags on Ray: 'local' (a private instance on this machine), "
                             "'auto' or ray://HOST:10001 (a cluster with this workspace installed)")
    args = parser.parse_args(argv)
    for name in ('threads', 'jobs', 'max_frames'):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1')
    return args


def make_deterministic(threads):
    """Same inputs, same outputs: fixed seeds, thread counts and deterministic torch kernels."""
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)


def image_connection(reader, topic):
    """The connection of the image topic to process; UserError when none or ambiguous."""
    images = [c for c in reader.connections if c.msgtype in DECODERS]
    if topic:
        images = [c for c in bag_io.connections_for(reader, [topic]) if c.msgtype in DECODERS]
        if not images:
            raise UserError(f'{topic} in {reader.path} is not a sensor_msgs Image or CompressedImage')
    if len({c.topic for c in images}) != 1:
        found = ', '.join(sorted({c.topic for c in images})) or 'none'
        raise UserError(f'{reader.path}: choose the image topic with --image-topic (image topics: {found})')
    return images[0]


class FrameProcessor:
    """One frame: image message -> detector -> messages -> tracker -> messages and drawings."""

    def __init__(self, detector, tracker):
        self.detector, self.tracker = detector, tracker
        self.drawer = TrackDrawer(TRAIL_LENGTH)
        self.class_names = []
        self.counts = collections.Counter(frames=0, detections=0, rejected_images=0)

    def process(self, image_msg, decode):
        """{topic: message} of one frame, plus the annotated RGB image; None for a bad image."""
        try:
            image = decode(image_msg)
        except ImageConversionError as exc:
            self.counts['rejected_images'] += 1
            tqdm.write(f'{PROG}: skipping a malformed image: {exc}')
            return None, None
        header = image_msg.header
        det_msg, mask_msg = detections_to_msgs(self.detector.detect(image), header,
                                               image.shape[1], image.shape[0])
        # Through the messages, as the tracker node receives them: identical inputs to DeepSort.
        dets = msgs_to_detections(det_msg, mask_msg, self.class_names)
        self.class_names = dets.class_names
        tracks = self.tracker.update(dets.boxes, dets.scores, dets.class_ids,
                                     stamp_to_ns(header.stamp) * 1e-9, image=image, masks=dets.masks,
                                     mask_origins=dets.mask_origins)
        self.drawer.update(tracks)
        annotated = self.drawer.draw(image, tracks, dets)
        self.counts['frames'] += 1
        self.counts['detections'] += len(det_msg.detections)
        return {'/detections': det_msg, '/detections/masks': mask_msg,
                '/tracks': tracks_to_msg(tracks, header, self.class_names, mask_msg),
                '/tracks/detections': confirmed_detections(tracks, header, self.class_names),
                '/tracks/image': array_to_image(annotated, 'rgb8', header)}, annotated


def process(args):
    """Run the whole bag `args.in_bag` into `args.out_dir`; returns the summary."""
    make_deterministic(args.threads)
    overrides = {'backend': args.backend, 'weights': args.weights, 'device': args.device}
    reader = bag_io.open_reader(args.in_bag)
    try:
        connection = image_connection(reader, args.image_topic)
        detector = node_config.create_detector(args.config, overrides)
        config = node_config.tracker_config(args.config, {'device': args.device})
        tqdm.write(f'{PROG}: detector {detector.describe()}')
        processor = FrameProcessor(detector, DeepSort(config, build_embedder(config)))
        args.out_dir.mkdir(parents=True, exist_ok=True)
        writer = bag_io.open_writer(args.out_dir / 'output_bag')
        try:
            summary = run_frames(args, reader, connection, processor, writer)
        finally:
            writer.close()
    finally:
        reader.close()
    summary['detector'] = detector.describe()
    return write_summary(args.out_dir / 'summary.json', summary)


def run_frames(args, reader, connection, processor, writer):
    """The frame loop; writes the bag, video and tracks file, returns the figures."""
    outputs = {topic: bag_io.add_topic(writer, topic, msgtype) for topic, msgtype in OUTPUT_TYPES}
    msg_class, decode = bag_io.message_class(connection.msgtype), DECODERS[connection.msgtype]
    total = min(connection.msgcount, args.max_frames or connection.msgcount)
    duration_s = max(reader.duration * 1e-9, 1e-9)
    fps = round((connection.msgcount - 1) / duration_s, 3) if connection.msgcount > 1 else 10.0
    video, table = AnnotatedVideo(args.out_dir / 'tracks.mp4', fps), TracksTable()
    start = time.perf_counter()
    try:
        messages = bag_io.read_messages(reader, [connection])
        frames = tqdm(messages, total=total, unit='frame', disable=not getattr(args, 'progress', True))
        for frame, (_, timestamp, raw) in enumerate(frames, 1):
            if frame > total:
                break
            msgs, annotated = processor.process(deserialize_message(raw, msg_class), decode)
            if msgs is None:
                continue
            for topic, msg in msgs.items():
                writer.write(outputs[topic], timestamp, serialize_message(msg))
            video.write(annotated)
            table.add(frame, msgs['/tracks'])
    finally:
        video.close()
    elapsed = time.perf_counter() - start
    table.write(args.out_dir / 'tracks.txt')
    counts = processor.counts
    return {'input_bag': str(args.in_bag), 'image_topic': connection.topic, 'frames': counts['frames'],
            'rejected_images': counts['rejected_images'], 'detections': counts['detections'],
            'tracks': len(table.track_ids), 'track_rows': len(table.frames),
            'fps': counts['frames'] / elapsed if elapsed > 0 else 0.0, 'video_fps': fps,
            'threads': args.threads,
            'outputs': {'video': 'tracks.mp4', 'bag': 'output_bag', 'tracks': 'tracks.txt'}}


def process_one(in_bag, out_dir, options):
    """One bag of a batch, exactly as `perception-process-bag IN_BAG --out-dir OUT` with `options`."""
    args = argparse.Namespace(in_bag=Path(in_bag), out_dir=Path(out_dir), progress=False, **options)
    return process(args)


def batch_options(args, jobs):
    """The per-bag options of a batch (threads split among the jobs unless given)."""
    threads = args.threads or max(1, (os.cpu_count() or 1) // jobs)
    return {'config': args.config, 'image_topic': args.image_topic, 'backend': args.backend,
            'weights': args.weights, 'device': args.device, 'max_frames': args.max_frames,
            'threads': threads}


def run_batch(args, bags):
    """Every bag into --out-dir/<bag name>/ in parallel; prints a table, returns the summaries."""
    names = batch.output_names(bags)
    taken = [args.out_dir / n for n in names if (args.out_dir / n / 'output_bag').exists()]
    if taken:
        raise UserError(f'{taken[0]} holds results already; choose another --out-dir')
    jobs = min(args.jobs or os.cpu_count() or 1, len(bags))
    options = batch_options(args, jobs)
    tasks = [(str(bag), str(args.out_dir / name), options) for bag, name in zip(bags, names)]
    print(f'{PROG}: {len(bags)} bags, {jobs} at once, {options["threads"]} thread(s) each'
          + (f', on Ray ({args.ray_address})' if args.ray_address else ''), flush=True)
    start = time.perf_counter()
    if args.ray_address:
        results = batch.run_ray(process_one, tasks, args.ray_address, jobs, options['threads'])
    else:
        results = batch.run_local(process_one, tasks, jobs)
    elapsed = time.perf_counter() - start
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_summary(args.out_dir / 'batch_summary.json',
                  {'bags': results, 'jobs': jobs, 'threads': options['threads'], 'seconds': elapsed,
                   'failed': sum('error' in r for r in results), 'engine': args.ray_address or 'local'})
    print(batch_table(results, names), flush=True)
    return results


def batch_table(results, names):
    """One line per bag: frames, detections, tracks, speed, or why it failed."""
    lines = [f'{"bag":24} {"frames":>7} {"detections":>10} {"tracks":>6} {"fps":>7}  status']
    for name, r in zip(names, results):
        if 'error' in r:
            lines.append(f'{name:24} {"":>7} {"":>10} {"":>6} {"":>7}  FAILED: {r["error"]}')
        else:
            lines.append(f'{name:24} {r["frames"]:>7} {r["detections"]:>10} {r["tracks"]:>6} '
                         f'{r["fps"]:>7.2f}  ok')
    return '\n'.join(lines)


def main(argv=None):
    """Entry point."""
    args = parse_args(argv)
    with user_errors(PROG):
        bags = batch.find_bags(args.in_bags)
        single = len(args.in_bags) == 1 and len(bags) == 1 and batch.is_bag(Path(args.in_bags[0]))
        if not single:
            results = run_batch(args, bags)
            failed = [r for r in results if 'error' in r]
            if failed:
                print(f'{PROG}: {len(failed)} of {len(results)} bags failed', file=sys.stderr)
                sys.exit(1)
            return
        if (args.out_dir / 'output_bag').exists():
            raise UserError(f'{args.out_dir / "output_bag"} exists already; choose another --out-dir')
        args.in_bag, args.threads = bags[0], args.threads or os.cpu_count()
        summary = process(args)
    print(f'{PROG}: {summary["frames"]} frames, {summary["detections"]} detections, '
          f'{summary["tracks"]} tracks at {summary["fps"]:.2f} fps -> {args.out_dir}/')


if __name__ == '__main__':
    main()
