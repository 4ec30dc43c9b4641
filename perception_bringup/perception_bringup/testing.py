"""Helpers for the bring-up tests: small real videos and bags, tools run as processes."""
import contextlib
import os
import signal
import subprocess
import threading

import cv2
import numpy as np

from perception_bringup import video_to_bag
from perception_ros_glue.ros_testing import wait_until

FPS = 10.0
START_S = 1000.0


def write_video(path, frames=12, size=(96, 64), fps=FPS):
    """An MJPG .avi of a bright square moving over a gradient; returns the path."""
    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), fps, (width, height))
    assert writer.isOpened()
    gradient = np.tile(np.linspace(0, 120, width, dtype=np.uint8), (height, 1))
    for i in range(frames):
        frame = cv2.merge([gradient, gradient[::-1], np.full_like(gradient, 40)])
        cv2.rectangle(frame, (4 + 5 * i, 10), (24 + 5 * i, 30), (255, 255, 255), -1)
        writer.write(frame)
    writer.release()
    return path


def read_video(path):
    """Every frame of a video, as OpenCV decodes it (BGR)."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            return frames
        frames.append(frame)


def make_bag(tmp_path, name='in_bag', frames=12, extra=()):
    """A bag of `frames` raw bgr8 images on /camera/image_raw stamped START_S + i / FPS."""
    video = write_video(tmp_path / f'{name}.avi', frames)
    video_to_bag.main([str(video), str(tmp_path / name), '--start-time', str(START_S), *extra])
    return tmp_path / name


def run_tool(*argv, timeout=60):
    """Run a console script; returns the CompletedProcess (text output)."""
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, 'PYTHONUNBUFFERED': '1'})


def assert_no_traceback(*outputs):
    """No Python traceback in any of the given output texts."""
    for text in outputs:
        assert 'Traceback' not in (text or ''), text


def people_bag(tmp_path, frames=16, name='people_bag', objects=2, seed=3, extra=()):
    """A bag of synthetic walking people (perception-make-mot, seed 3: HOG finds one in every frame);
    ``extra``: more perception-video-to-bag options (--topic, --frame-id)."""
    mot = tmp_path / f'{name}_mot'
    subprocess.run(['perception-make-mot', '--out', str(mot), '--frames', str(frames),
                    '--objects', str(objects), '--width', '640', '--height', '480', '--fps', str(FPS),
                    '--seed', str(seed)], check=True, capture_output=True)
    images = sorted(mot.glob('*/img1/*.jpg'))
    writer = cv2.VideoWriter(str(tmp_path / f'{name}.avi'), cv2.VideoWriter_fourcc(*'MJPG'), FPS, (640, 480))
    for image in images:
        writer.write(cv2.imread(str(image)))
    writer.release()
    video_to_bag.main([str(tmp_path / f'{name}.avi'), str(tmp_path / name), '--start-time', str(START_S),
                       *extra])
    return tmp_path / name


def write_people_config(path, **tracker):
    """A parameter file for people_bag: HOG at a lower threshold, CPU, queued reliable inputs."""
    tracker_lines = ''.join(f'    {k}: {v}\n' for k, v in {'n_init': 2, 'device': 'cpu', 'qos': 'reliable',
                                                          **tracker}.items())
    path.write_text('detector_node:\n  ros__parameters:\n    backend: hog\n    device: cpu\n'
                    '    score_threshold: 0.3\n    qos: reliable\n    queue_size: 100\n'
                    f'    publish_annotated: true\ntracker_node:\n  ros__parameters:\n{tracker_lines}')
    return path


class RunningGraph:
    """What ``running_graph`` yields: the listener ``node`` and what it received; ``output``
    (the graph's) once stopped."""

    def __init__(self, node, namespaces):
        self.node, self.tracks, self.fused, self.clocks, self.output = node, [], [], [], ''
        self.diagnostics = {}  # node's full name -> its newest /diagnostics values
        # Tracks of each camera namespace ('' = the default camera's: the same list as tracks).
        self.tracks_by_camera = {ns: (self.tracks if not ns else []) for ns in namespaces}
        self.process = None  # the perception-run-graph process


@contextlib.contextmanager
def running_graph(config, image_topic='/camera/image_raw', *graph_args, cameras=None):
    """perception-run-graph with a spun listener node collecting /tracks, /tracks/fused and /clock; waits until
    the graph is wired, the detector-tracker match as the nodes report it (every frame must
    count). On exit: Ctrl-C, and the graph must stop cleanly (exit 0, no traceback).
    ``cameras``: {namespace: image topic} for --cameras; then /<namespace>/tracks are collected
    in ``tracks_by_camera``."""
    from diagnostic_msgs.msg import DiagnosticArray
    from perception_msgs.msg import TrackedObjectArray
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from rosgraph_msgs.msg import Clock

    from perception_ros_glue.ros_testing import close_test_node, make_test_node
    context, node, executor = make_test_node('graph_listener')
    cameras = cameras or {'': image_topic}
    graph = RunningGraph(node, cameras)
    reliable = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
    track_subs = [node.create_subscription(TrackedObjectArray, f'{"/" + ns if ns else ""}/tracks',
                                           graph.tracks_by_camera[ns].append, reliable)
                  for ns in cameras]
    if '' in cameras:  # the default camera's fused detection frames (tracks/fused)
        node.create_subscription(TrackedObjectArray, '/tracks/fused', graph.fused.append, reliable)
    node.create_subscription(Clock, '/clock', graph.clocks.append, 100)
    node.create_subscription(DiagnosticArray, '/diagnostics', lambda m: graph.diagnostics.update(
        {s.name: {kv.key: kv.value for kv in s.values} for s in m.status}), reliable)
    stop = threading.Event()
    spinner = threading.Thread(target=lambda: [executor.spin_once(timeout_sec=0.05)
                                               for _ in iter(stop.is_set, True)], daemon=True)
    spinner.start()
    # A generous stop timeout: torch's interpreter exit alone can take seconds on a loaded CI box.
    if any(cameras):
        graph_args = ('--cameras', ','.join(f'{ns}:{topic}' for ns, topic in cameras.items()),
                      *graph_args)
    process = subprocess.Popen(['perception-run-graph', '--config', str(config), '--image-topic',
                                image_topic, '--stop-timeout', '60', *graph_args],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    graph.process = process

    def wired_camera(ns, topic, track_sub):
        # The detector-tracker link as both nodes see it (DDS matches, from their diagnostics):
        # the graph seen from here can be complete a while before those two have matched.
        prefix = f'/{ns}' if ns else ''
        detector = graph.diagnostics.get(f'{prefix}/detector_node', {})
        tracker = graph.diagnostics.get(f'{prefix}/tracker_node', {})
        return (node.count_subscribers(topic) >= 2 and track_sub.get_publisher_count() >= 1
                and int(detector.get('detections_subscribers', 0)) >= 1
                and int(tracker.get('detections_publishers', 0)) >= 1)
    try:
        wired = wait_until(lambda: all(wired_camera(ns, topic, sub) for (ns, topic), sub
                                       in zip(cameras.items(), track_subs))
                           or process.poll() is not None, timeout=180)
        assert wired and process.poll() is None, f'graph not wired in 180 s (exit {process.poll()})'
        yield graph
    finally:
        process.send_signal(signal.SIGINT)
        graph.output, _ = process.communicate(timeout=120)
        stop.set()
        spinner.join()
        close_test_node(context, node, executor)
        print(graph.output)  # shown by pytest when the test fails
    assert process.returncode == 0 and 'all nodes stopped cleanly' in graph.output, graph.output
    assert_no_traceback(graph.output)


def play_bag(bag, *args):
    """perception-bag-play at half speed into both nodes (they queue reliable inputs);
    --delay 1: the player sees its readers matched a moment before they have matched it."""
    return play_bags([bag], *args)[0]


def play_bags(bags, *args, rate=0.5):
    """play_bag for several bags at once (one player each), e.g. one bag per camera."""
    players = [subprocess.Popen(['perception-bag-play', str(bag), '--rate', str(rate), '--quiet',
                                 '--wait-for-subscribers', '60', '--min-subscribers', '2',
                                 '--delay', '1', *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for bag in bags]
    results = []
    for player in players:
        out, err = player.communicate(timeout=240)
        assert player.returncode == 0, err
        assert_no_traceback(out, err)
        results.append(subprocess.CompletedProcess(player.args, player.returncode, out, err))
    return results
