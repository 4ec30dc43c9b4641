"""perception-process-bag: detect and track every frame of bags offline, deterministically.

No DDS: the nodes' per-frame engines (perception_maskrcnn.frame_detector,
perception_deepsort.frame_tracker) run in this process, configured from the nodes' parameter
file, and their results go through the nodes' own message conversions. By default every frame
is detected and tracked with its detections; --camera-rate replays a detector slower than the
camera, as the live graph runs it: only every --detect-every'th frame is detected, its
detections reach the tracker --detection-delay frames later, and every frame gets the tracks
tracker_node would have published when it arrived. Outputs in --out-dir: output_bag/
(detections, masks, tracks, fused tracks, track detections, annotated images), tracks.mp4,
tracks.txt (MOTChallenge) and summary.json. Given several bags (folders, globs, list
files), each bag goes to --out-dir/<bag name>/ exactly as if processed alone, in parallel on
local worker processes (--jobs) or on a Ray cluster (--ray-address); batch_summary.json and a
table report every bag, failed ones included.
"""
import argparse
import itertools
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from rclpy.serialization import deserialize_message, serialize_message
from std_msgs.msg import Header
from tqdm import tqdm

from perception_bringup import bag_io, batch, graph_spec, node_config, profiles
from perception_bringup.cli import UserError, user_errors
from perception_bringup.outputs import AnnotatedVideo, TracksTable, write_summary
from perception_deepsort.deep_sort import build_embedder
from perception_deepsort.frame_tracker import TRACKS, FrameTracker, track_offline
from perception_deepsort.track_drawing import TrackDrawer
from perception_deepsort.track_conversions import confirmed_detections, tracks_to_msg
from perception_maskrcnn.frame_detector import limit_inference_threads
from perception_ros_glue.image_conversion import (ImageConversionError, array_to_image,
                                                  compressed_to_rgb, image_to_rgb)
from perception_ros_glue.ros_conversions import (detections_from_msg, detections_to_msgs,
                                                 masks_from_msg, stamp_to_ns)

PROG = 'perception-process-bag'
DECODERS = {'sensor_msgs/msg/Image': image_to_rgb, 'sensor_msgs/msg/CompressedImage': compressed_to_rgb}
OUTPUT_TYPES = (('/detections', 'vision_msgs/msg/Detection2DArray'),
                ('/detections/masks', 'perception_msgs/msg/InstanceMaskArray'),
                ('/tracks', 'perception_msgs/msg/TrackedObjectArray'),
                ('/tracks/fused', 'perception_msgs/msg/TrackedObjectArray'),
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
    parser.add_argument('--profile', default='auto',
                        help="parameter profile laid over --config: 'auto' (the one measured for the "
                             "detector's weights, if any), 'none', or a file")
    parser.add_argument('--image-topic', default=None,
                        help='image topic (default: the bag\'s only Image/CompressedImage topic)')
    parser.add_argument('--backend', default=None, help='detector backend; default: config')
    parser.add_argument('--weights', default=None, help='detector weights; default: config')
    parser.add_argument('--device', default=None, help='auto | cpu | cuda | cuda:N; default: config')
    parser.add_argument('--max-frames', type=int, default=None, help='process only the first N frames')
    parser.add_argument('--camera-rate', action='store_true',
                        help='as the live graph behind a detector slower than the camera: every frame gets the '
                             'tracks tracker_node would publish when it arrives (see --detect-every, '
                             '--detection-delay)')
    parser.add_argument('--detect-every', type=int, default=1, metavar='N',
                        help='with --camera-rate: the detector answers frames 1, 1+N, 1+2N, ... (default 1)')
    parser.add_argument('--detection-delay', type=int, default=0, metavar='FRAMES',
                        help='with --camera-rate: the detections of frame t reach the tracker at frame t + FRAMES '
                             '(default 0)')
    parser.add_argument('--threads', type=int, default=None,
                        help='CPU threads for torch and OpenCV per bag (results are identical for a '
                             'given value; default: the cores divided among the jobs)')
    parser.add_argument('--jobs', type=int, default=None,
                        help='bags processed at once (default: as many as cores, at most the bags)')
    parser.add_argument('--ray-address', default=None,
                        help="run the bags on Ray: 'local' (a private instance on this machine), "
                             "'auto' or ray://HOST:10001 (a cluster with this workspace installed)")
    args = parser.parse_args(argv)
    for name in ('threads', 'jobs', 'max_frames', 'detect_every'):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1')
    if args.detection_delay < 0:
        parser.error('--detection-delay must be >= 0')
    if not args.camera_rate and (args.detect_every != 1 or args.detection_delay):
        parser.error('--detect-every and --detection-delay go with --camera-rate')
    return args


def make_deterministic(threads):
    """Same inputs, same outputs: fixed seeds, thread counts and deterministic torch kernels."""
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True, warn_only=True)
    limit_inference_threads(threads)


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
    """Camera frames of a bag through the detector and tracker engines, as the nodes run them."""

    def __init__(self, detector, tracker: FrameTracker, detect_every: int = 1, delay: int = 0):
        self.detector, self.tracker = detector, tracker
        self.detect_every, self.delay = detect_every, delay
        self.drawer = TrackDrawer(TRAIL_LENGTH)
        self.class_names = []
        self.detection_msgs = {}  # frame index -> (detections, masks) messages not yet written
        self.bag_times = []  # bag timestamp of each frame read
        self.rejected_images = 0

    def frames(self, messages, decode):
        """track_offline frames of ``(bag timestamp, image message)``s; the detections go through
        the messages the detector node publishes and back, as the tracker node receives them."""
        for index, (timestamp, image_msg) in enumerate(messages):
            self.bag_times.append(timestamp)
            header = image_msg.header
            try:
                image = decode(image_msg)
            except ImageConversionError as exc:  # tracked on its stamp alone, as the node does
                self.rejected_images += 1
                tqdm.write(f'{PROG}: a malformed image: {exc}')
                image = None
            detections = masks = None
            if image is not None and index % self.detect_every == 0:
                det_msg, mask_msg = detections_to_msgs(self.detector.detect(image), header,
                                                       image.shape[1], image.shape[0])
                self.detection_msgs[index] = (det_msg, mask_msg)
                detections = detections_from_msg(det_msg, self.class_names)
                self.class_names = detections.class_names
                masks = masks_from_msg(mask_msg)
            yield stamp_to_ns(header.stamp), header.frame_id, image, detections, masks, None

    def run(self, messages, decode):
        """Yield ``(index, {topic: [messages]}, annotated RGB or None)`` for every camera frame."""
        for index, outputs in track_offline(self.tracker, self.frames(messages, decode), self.delay):
            msgs = {topic: [] for topic, _ in OUTPUT_TYPES}
            for det_msg, mask_msg in [self.detection_msgs.pop(index)] if index in self.detection_msgs else []:
                msgs['/detections'].append(det_msg)
                msgs['/detections/masks'].append(mask_msg)
            annotated = None
            for output in outputs:
                header = Header(frame_id=output.frame_id)
                header.stamp.sec, header.stamp.nanosec = divmod(output.stamp, 10**9)
                tracks_msg = tracks_to_msg(output.tracks, header, self.class_names)
                if output.kind != TRACKS:
                    msgs['/tracks/fused'].append(tracks_msg)
                    continue
                msgs['/tracks'].append(tracks_msg)
                msgs['/tracks/detections'].append(confirmed_detections(output.tracks, header,
                                                                       self.class_names))
                self.drawer.update(output.tracks)
                if output.image is not None:
                    annotated = self.drawer.draw(output.image, output.tracks, self.class_names)
                    msgs['/tracks/image'].append(array_to_image(annotated, 'rgb8', header))
            yield index, msgs, annotated


def process(args):
    """Run the whole bag `args.in_bag` into `args.out_dir`; returns the summary."""
    make_deterministic(args.threads)
    overrides = {'backend': args.backend, 'weights': args.weights, 'device': args.device}
    reader = bag_io.open_reader(args.in_bag)
    try:
        connection = image_connection(reader, args.image_topic)
        # The nodes' parameters, with the profile of the weights as every route lays it.
        parameters = profiles.parameters_for(args.config, overrides, getattr(args, 'profile', 'auto'))
        detector = node_config.frame_detector(parameters, overrides)
        config = node_config.tracker_config(parameters, {'device': args.device})
        tqdm.write(f'{PROG}: detector {detector.describe()}')
        tracker = FrameTracker(config, build_embedder(config))
        tracker.expect_masks = False  # the masks come with their detections
        processor = FrameProcessor(detector, tracker, getattr(args, 'detect_every', 1),
                                   getattr(args, 'detection_delay', 0))
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
    messages = ((timestamp, deserialize_message(raw, msg_class))
                for _, timestamp, raw in itertools.islice(bag_io.read_messages(reader, [connection]),
                                                          total))
    start = time.perf_counter()
    frames = detections = 0
    try:
        results = tqdm(processor.run(messages, decode), total=total, unit='frame',
                       disable=not getattr(args, 'progress', True))
        for index, msgs, annotated in results:
            # A frame's outputs carry its bag time: when it arrived, as a recorder sees them.
            for topic, topic_msgs in msgs.items():
                for msg in topic_msgs:
                    writer.write(outputs[topic], processor.bag_times[index], serialize_message(msg))
            detections += sum(len(m.detections) for m in msgs['/detections'])
            if annotated is not None:
                video.write(annotated)
            for tracks_msg in msgs['/tracks']:
                table.add(index + 1, tracks_msg)
            frames += 1
    finally:
        video.close()
    elapsed = time.perf_counter() - start
    table.write(args.out_dir / 'tracks.txt')
    counts = processor.tracker.all_counts()
    return {'input_bag': str(args.in_bag), 'image_topic': connection.topic, 'frames': frames,
            'rejected_images': processor.rejected_images, 'detections': detections,
            'frames_detected': counts['frames_detected'], 'fused_late': counts['fused_late'],
            'tracks': len(table.track_ids), 'track_rows': len(table.frames),
            'fps': frames / elapsed if elapsed > 0 else 0.0, 'video_fps': fps,
            'threads': args.threads, 'camera_rate': getattr(args, 'camera_rate', False),
            'detect_every': getattr(args, 'detect_every', 1),
            'detection_delay': getattr(args, 'detection_delay', 0),
            'outputs': {'video': 'tracks.mp4', 'bag': 'output_bag', 'tracks': 'tracks.txt'}}


def process_one(in_bag, out_dir, options):
    """One bag of a batch, exactly as `perception-process-bag IN_BAG --out-dir OUT` with `options`."""
    args = argparse.Namespace(in_bag=Path(in_bag), out_dir=Path(out_dir), progress=False, **options)
    return process(args)


def batch_options(args, jobs):
    """The per-bag options of a batch (threads split among the jobs unless given)."""
    threads = args.threads or max(1, (os.cpu_count() or 1) // jobs)
    return {'config': args.config, 'profile': args.profile, 'image_topic': args.image_topic,
            'backend': args.backend,
            'weights': args.weights, 'device': args.device, 'max_frames': args.max_frames,
            'threads': threads, 'camera_rate': args.camera_rate, 'detect_every': args.detect_every,
            'detection_delay': args.detection_delay}


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
