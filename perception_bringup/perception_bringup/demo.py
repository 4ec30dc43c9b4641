"""perception-demo: real street footage through the detector and tracker nodes over DDS.

vtest.avi (Debian's opencv-doc) -> bag -> perception-bag-play -> detector_node -> tracker_node
-> perception-bag-record, each in its own process, then out/: annotated video, output bag,
MOTChallenge tracks file and summary.json (frames detected and tracked, detections, tracks,
rate, stamp -> tracks and stamp -> fused-detection latencies). The video plays at its own rate,
as a camera would: the tracker answers every frame, the detector takes the newest one.
"""
import argparse
import csv
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from perception_msgs.msg import TrackedObjectArray
from rclpy.serialization import deserialize_message
from sensor_msgs.msg import Image
from vision_msgs.msg import Detection2DArray

from perception_bringup import bag_io, graph_spec, profiles, video_to_bag, vtest
from perception_bringup.cli import UserError, user_errors
from perception_bringup.outputs import AnnotatedVideo, TracksTable, frame_index, write_summary
from perception_bringup.processes import CLEAN_EXIT, stop_all, worst_stop_s
from perception_bringup.run_graph import add_graph_arguments
from perception_ros_glue.image_conversion import image_to_rgb
from perception_ros_glue.ros_conversions import stamp_to_ns

PROG = 'perception-demo'
IMAGE_TOPIC = graph_spec.DEFAULT_IMAGE_TOPIC
RECORDED = ('/detections', '/detections/masks', '/tracks', '/tracks/fused', '/tracks/detections',
            '/tracks/image')
NODE_START_TIMEOUT_S = 300.0
STOP_TIMEOUT_S = 20.0  # after SIGINT, for the player, the recorder and each node of the graph


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n')[0].split(': ', 1)[1])
    add_graph_arguments(parser)
    parser.add_argument('--video', type=Path, default=None,
                        help='input video (default: vtest.avi, fetched from Debian\'s opencv-doc)')
    parser.add_argument('--out-dir', type=Path, default=Path('out'), help='output folder (default: out)')
    parser.add_argument('--max-frames', type=int, default=None, help='use only the first N frames')
    parser.add_argument('--rate', type=float, default=1.0,
                        help="playback rate (default 1.0: the video's own rate, as from a camera)")
    parser.add_argument('--cache-dir', type=Path, default=Path('.cache'),
                        help='where the fetched video is kept')
    args = parser.parse_args(argv)
    args.image_topic = IMAGE_TOPIC
    return args


def say(text):
    """A progress line of the demo itself."""
    print(f'[{PROG}] {text}', flush=True)


def overrides(args):
    """Detector parameters given on the command line."""
    return {'backend': args.backend, 'weights': args.weights, 'device': args.device}


def start(argv, log_path):
    """A child process in its own session (so Ctrl-C reaches it only through us), output to a log."""
    log = open(log_path, 'w')
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)


def graph_argv(args):
    """perception-run-graph with the demo's graph options."""
    argv = [shutil.which('perception-run-graph') or 'perception-run-graph', '--config', str(args.config),
            '--profile', str(args.profile), '--image-topic', IMAGE_TOPIC,
            '--stop-timeout', str(STOP_TIMEOUT_S)]
    for name, value in overrides(args).items():
        if value:
            argv += [f'--{name}', value]
    return argv


def run_pipeline(args, in_bag, fps, work):
    """Graph + recorder + player, each its own process; returns {name: exit code}."""
    procs = {'graph': start(graph_argv(args), work / 'graph.log'),
             'record': start(['perception-bag-record', str(args.out_dir / 'output_bag'), '--topics',
                              *RECORDED], work / 'record.log')}
    say(f'nodes starting (log: {work / "graph.log"}); playback begins once both subscribe')
    play = subprocess.Popen(['perception-bag-play', str(in_bag), '--rate', f'{args.rate:.6g}',
                             '--wait-for-subscribers', str(NODE_START_TIMEOUT_S),
                             '--min-subscribers', '2', '--delay', '1',
                             '--publish-log', str(work / 'publish_log.csv')], start_new_session=True)
    procs['play'] = play
    try:
        while play.poll() is None:
            # A graph or recorder that dies (bad weights, crash) ends the run at once.
            for name in ('graph', 'record'):
                if procs[name].poll() is not None:
                    raise UserError(f'{name} stopped early (exit code {procs[name].returncode}); '
                                    f'see {work / (name + ".log")}')
            time.sleep(0.5)
        if play.returncode != 0:
            raise UserError(f'perception-bag-play failed (exit code {play.returncode})')
        # Let the last frames through the detector and tracker before the recorder stops.
        time.sleep(2.0 + (3.0 / (fps * args.rate) if args.rate > 0 else 5.0))
    finally:
        # Player, then recorder (so it sees every message the graph still publishes), then graph.
        # The graph runner gets the time to force its own nodes (and join its log threads):
        # killed before that, it would leave a node that hangs on Ctrl-C running without a parent.
        forced = []
        for name in ('play', 'record', 'graph'):
            timeout = worst_stop_s(STOP_TIMEOUT_S) + 5.0 if name == 'graph' else STOP_TIMEOUT_S
            forced += stop_all({name: procs[name]}, timeout)
    codes = {name: proc.returncode for name, proc in procs.items()}
    for name, code in codes.items():
        if name in forced or code not in CLEAN_EXIT:
            say(f'warning: {name} did not stop cleanly (exit code {code})')
    return codes


def read_topics(bag, topics):
    """{topic: [(bag timestamp ns, rclpy message)]} of the recorded bag."""
    types = {'/tracks': TrackedObjectArray, '/tracks/fused': TrackedObjectArray,
             '/tracks/image': Image, '/detections': Detection2DArray}
    out = {t: [] for t in topics}
    reader = bag_io.open_reader(bag)
    try:
        wanted = [c for c in reader.connections if c.topic in topics]
        for connection, timestamp, raw in reader.messages(wanted):
            out[connection.topic].append((timestamp, deserialize_message(raw, types[connection.topic])))
    finally:
        reader.close()
    return out


def stamp_ns(msg):
    """Header stamp of a message in ns."""
    return stamp_to_ns(msg.header.stamp)


def detector_log(graph_log):
    """``(description, {counter: number})`` of the detector node from the graph log."""
    text = Path(graph_log).read_text(errors='replace') if Path(graph_log).is_file() else ''
    lines = [line for line in text.splitlines() if 'detector_node' in line]
    described = [line.split('detector: ', 1)[1] for line in lines if 'detector: ' in line]
    counted = [line for line in lines if 'dropped_stale=' in line]
    counters = ({k: float(v) if '.' in v else int(v)
                 for k, v in re.findall(r'(\w+)=([\d.]+)', counted[-1])} if counted else {})
    return (described[-1].strip() if described else 'unknown (see logs/graph.log)'), counters


def latencies_ms(recorded, played_stamps):
    """Median and p95 [ms] of image published -> message recorded, for the played stamps."""
    values = [(received - played_stamps[stamp_ns(msg)]) / 1e6 for received, msg in recorded
              if stamp_ns(msg) in played_stamps]
    if not values:
        return None, None
    return float(np.median(values)), float(np.percentile(values, 95))


def write_outputs(args, fps, played_stamps):
    """Annotated video, tracks file and summary from the recorded bag; returns the summary."""
    recorded = read_topics(args.out_dir / 'output_bag',
                           ('/tracks', '/tracks/fused', '/tracks/image', '/detections'))
    frame_of = frame_index(played_stamps)
    video = AnnotatedVideo(args.out_dir / 'tracks.mp4', fps)
    for _, msg in sorted(recorded['/tracks/image'], key=lambda item: stamp_ns(item[1])):
        video.write(image_to_rgb(msg))
    video.close()
    table = TracksTable()
    for _, msg in recorded['/tracks']:
        table.add(frame_of.get(stamp_ns(msg), 0), msg)
    table.write(args.out_dir / 'tracks.txt')
    receipts = sorted(received for received, _ in recorded['/tracks'])
    span_s = (receipts[-1] - receipts[0]) / 1e9 if len(receipts) > 1 else 0.0
    tracked = {stamp_ns(m) for _, m in recorded['/tracks']} & set(played_stamps)
    detected = {stamp_ns(m) for _, m in recorded['/detections']}
    description, counters = detector_log(args.out_dir / 'logs' / 'graph.log')
    tracks_latency, fused_latency = (latencies_ms(recorded[t], played_stamps)
                                     for t in ('/tracks', '/tracks/fused'))
    return write_summary(args.out_dir / 'summary.json', {
        'video': str(args.video), 'frames_in': len(played_stamps), 'frames_out': len(tracked),
        'frames_detected': len(detected & set(played_stamps)),
        'frames_predicted': len(tracked - detected),
        'dropped_frames': len(played_stamps) - len(tracked),
        'detector_node': {k: counters[k] for k in ('received', 'processed', 'dropped_stale',
                                                   'rejected', 'failed', 'mean_inference_ms')
                          if k in counters},
        'detection_messages': len(recorded['/detections']),
        'detections': sum(len(m.detections) for _, m in recorded['/detections']),
        'tracks': len(table.track_ids), 'track_rows': len(table.frames),
        'annotated_frames': video.frames,
        'achieved_fps': (len(receipts) - 1) / span_s if span_s > 0 else 0.0,
        'latency_ms_median': tracks_latency[0], 'latency_ms_p95': tracks_latency[1],
        'fused_latency_ms_median': fused_latency[0], 'fused_latency_ms_p95': fused_latency[1],
        'playback_rate': args.rate, 'video_fps': fps, 'detector': description,
        'parameters': str(args.parameters),
        'outputs': {'video': 'tracks.mp4', 'bag': 'output_bag', 'tracks': 'tracks.txt'}})


def read_publish_log(path):
    """{header stamp ns: wall publish ns} of the played images."""
    with open(path, newline='') as f:
        return {int(row['stamp_ns']): int(row['publish_ns']) for row in csv.DictReader(f)
                if row['topic'] == IMAGE_TOPIC}


def print_summary(summary):
    """The human-readable result."""
    def latency(key):
        median, p95 = summary[f'{key}_median'], summary[f'{key}_p95']
        return 'n/a' if median is None else f'{median:.0f} ms median, {p95:.0f} ms p95'
    node = summary['detector_node']
    inference = (f', {node["mean_inference_ms"]:.0f} ms inference a frame'
                 if node.get('mean_inference_ms') else '')
    print(f'\n{PROG}: done\n'
          f'  detector         {summary["detector"]}\n'
          f'  frames           {summary["frames_in"]} played, {summary["frames_out"]} tracked '
          f'({summary["frames_predicted"]} of them between detections), '
          f'{summary["frames_detected"]} detected{inference}\n'
          f'  detections       {summary["detections"]} in {summary["detection_messages"]} frames\n'
          f'  tracks           {summary["tracks"]} identities, {summary["track_rows"]} rows\n'
          f'  frame rate       {summary["achieved_fps"]:.2f} fps of tracks (playback rate '
          f'{summary["playback_rate"]:.3g} x {summary["video_fps"]:g} fps)\n'
          f'  latency          image stamp -> tracks: {latency("latency_ms")}\n'
          f'                   image stamp -> detections fused: {latency("fused_latency_ms")}\n',
          flush=True)


def run(args):
    """The whole demo."""
    args.video = args.video or vtest.vtest_video(args.cache_dir, say)
    if not args.video.is_file():
        raise UserError(f'{args.video} does not exist')
    args.out_dir.mkdir(parents=True, exist_ok=True)
    work = args.out_dir / 'logs'
    work.mkdir(exist_ok=True)
    # The demo's own products are replaced; nothing else in the folder is touched.
    for name in ('input_bag', 'output_bag'):
        shutil.rmtree(args.out_dir / name, ignore_errors=True)
    in_bag = args.out_dir / 'input_bag'
    convert = ['--start-time', str(time.time())] + (['--max-frames', str(args.max_frames)]
                                                      if args.max_frames else [])
    video_to_bag.main([str(args.video), str(in_bag), *convert])
    fps = cv2.VideoCapture(str(args.video)).get(cv2.CAP_PROP_FPS) or 10.0
    # The parameters every node of the run gets (the graph runner decides them the same way).
    args.parameters = profiles.parameters_for(args.config, overrides(args), args.profile)
    if args.parameters != args.config:
        say(f'parameters: {args.config} with the profile measured for these weights '
            f'({args.parameters})')
    say(f'playing at rate {args.rate:g} ({fps * args.rate:g} fps of the {fps:g} fps video)')
    run_pipeline(args, in_bag, fps, work)
    summary = write_outputs(args, fps, read_publish_log(work / 'publish_log.csv'))
    print_summary(summary)
    say(f'outputs in {args.out_dir}/: tracks.mp4, output_bag/, tracks.txt, summary.json, logs/')
    return summary


def _interrupt(signum, frame):
    """SIGTERM ends the demo like Ctrl-C: children are stopped in order."""
    raise KeyboardInterrupt


def main(argv=None):
    """Entry point."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with user_errors(PROG):
        try:
            run(args)
        except KeyboardInterrupt:
            print(f'{PROG}: interrupted', file=sys.stderr)
            sys.exit(130)


if __name__ == '__main__':
    main()
