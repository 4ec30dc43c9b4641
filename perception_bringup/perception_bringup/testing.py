"""Helpers for the bring-up tests: small real videos and bags, tools run as processes."""
import contextlib
import os
import signal
import subprocess
import tempfile
import threading

import cv2
import numpy as np

from perception_bringup import video_to_bag
from perception_ros_glue.ros_testing import (descendants, kill_tree, popen_group, stop_group,
                                             wait_until)

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
    """Run a console script; returns the CompletedProcess (text output). After ``timeout`` s it
    is killed with everything it started (TimeoutExpired)."""
    proc = popen_group(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       env={**os.environ, 'PYTHONUNBUFFERED': '1'})
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        kill_tree(proc)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


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


class RunningGraph:
    """What ``running_graph`` yields: the listener ``node`` and what it received; ``output``
    (the graph's) once stopped."""

    def __init__(self, node, cameras):
        self.node, self.cameras, self.tracks, self.fused, self.clocks = node, cameras, [], [], []
        self.output = ''
        self.diagnostics = {}  # node's full name -> its newest /diagnostics values
        self.diagnostic_stamps = {}  # node's full name -> header stamps (ns) of its /diagnostics
        # Tracks of each camera namespace ('' = the default camera's: the same list as tracks).
        self.tracks_by_camera = {ns: (self.tracks if not ns else []) for ns in cameras}
        self.process = None  # the perception-run-graph process
        self.clock_sub = None  # the listener's /clock subscription

    def on_diagnostics(self, msg):
        """Keep each node's newest values and every stamp (the node's clock at publishing)."""
        for status in msg.status:
            self.diagnostics[status.name] = {kv.key: kv.value for kv in status.values}
            self.diagnostic_stamps.setdefault(status.name, []).append(
                msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec)

    def node_names(self):
        """Full names of the graph's detector and tracker nodes."""
        return [f'{"/" + ns if ns else ""}/{name}' for ns in self.cameras
                for name in ('detector_node', 'tracker_node')]

    def ours(self, name):
        """Whether the /diagnostics of node ``name`` come from a process of this graph (a node
        another test left behind must not pass for one of ours)."""
        pid = self.diagnostics.get(name, {}).get('pid')
        return pid is not None and int(pid) in descendants(self.process.pid)

    def matched(self, name, key):
        """DDS matches the node ``name`` reports under ``key`` (0 before it reports any)."""
        return int(self.diagnostics.get(name, {}).get(key, 0))

    def inputs_matched(self, clock=False):
        """Whether every node reports a matched publisher on its camera topic (the tracker only
        when it subscribes to images) and, with ``clock``, on /clock."""
        for ns, topic in self.cameras.items():
            for name in ('detector_node', 'tracker_node'):
                full = f'{"/" + ns if ns else ""}/{name}'
                keys = [f'publishers {t}' for t in [topic] + (['/clock'] if clock else [])]
                if name == 'tracker_node':
                    keys = [k for k in keys if k in self.diagnostics.get(full, {})]
                if not all(self.matched(full, k) >= 1 for k in keys):
                    return False
        return True


def write_people_config(path, reliable=True, **tracker):
    """A parameter file for people_bag: HOG at a lower threshold, CPU; ``reliable``: queued
    reliable inputs (every frame counts) instead of the nodes' default sensor-data QoS."""
    inputs = '    qos: reliable\n    queue_size: 100\n' if reliable else ''
    tracker_lines = ''.join(f'    {k}: {v}\n' for k, v in {'n_init': 2, 'device': 'cpu',
                                                          **({'qos': 'reliable'} if reliable else {}),
                                                          **tracker}.items())
    path.write_text('detector_node:\n  ros__parameters:\n    backend: hog\n    device: cpu\n'
                    f'    score_threshold: 0.3\n{inputs}'
                    f'    publish_annotated: true\ntracker_node:\n  ros__parameters:\n{tracker_lines}')
    return path


@contextlib.contextmanager
def running_graph(config, image_topic='/camera/image_raw', *graph_args, cameras=None):
    """perception-run-graph with a spun listener node collecting /tracks, /tracks/fused, /clock
    and /diagnostics; waits until the graph is wired as the nodes themselves report it (their
    DDS matches in /diagnostics: every frame must count) and the nodes are this graph's. On exit:
    Ctrl-C, and the graph must stop cleanly (exit 0, no traceback); on any exit path nothing
    of it keeps running. ``cameras``: {namespace: image topic} for --cameras; then
    /<namespace>/tracks are collected in ``tracks_by_camera``."""
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
        fused_sub = node.create_subscription(TrackedObjectArray, '/tracks/fused',
                                             graph.fused.append, reliable)
    graph.clock_sub = node.create_subscription(Clock, '/clock', graph.clocks.append, 100)
    node.create_subscription(DiagnosticArray, '/diagnostics', graph.on_diagnostics, reliable)
    stop = threading.Event()
    spinner = threading.Thread(target=lambda: [executor.spin_once(timeout_sec=0.05)
                                               for _ in iter(stop.is_set, True)], daemon=True)
    spinner.start()
    if any(cameras):
        graph_args = ('--cameras', ','.join(f'{ns}:{topic}' for ns, topic in cameras.items()),
                      *graph_args)
    # A file, not a pipe: a chatty graph never blocks on a full pipe nobody reads meanwhile.
    log = tempfile.TemporaryFile('w+')
    # A generous stop timeout: torch's interpreter exit alone can take seconds on a loaded CI box.
    process = popen_group(['perception-run-graph', '--config', str(config), '--image-topic',
                           image_topic, '--stop-timeout', '60', *graph_args],
                          stdout=log, stderr=subprocess.STDOUT, text=True)
    graph.process = process

    def wired_camera(ns, topic, track_sub):
        # The links as the nodes see them: a reader that sees a writer may not be matched by it
        # yet (and misses what it sends meanwhile), so each side's own count is waited for.
        prefix = f'/{ns}' if ns else ''
        detector, tracker = f'{prefix}/detector_node', f'{prefix}/tracker_node'
        return (node.count_subscribers(topic) >= 2 and track_sub.get_publisher_count() >= 1
                and graph.matched(detector, 'detections_subscribers') >= 1
                and graph.matched(tracker, 'detections_publishers') >= 1
                and graph.matched(tracker, f'subscribers {prefix}/tracks') >= 1
                and (ns or (fused_sub.get_publisher_count() >= 1
                            and graph.matched(tracker, 'subscribers /tracks/fused') >= 1))
                and graph.ours(detector) and graph.ours(tracker))
    try:
        try:
            wired = wait_until(lambda: all(wired_camera(ns, topic, sub) for (ns, topic), sub
                                           in zip(cameras.items(), track_subs))
                               or process.poll() is not None, timeout=180)
            assert wired and process.poll() is None, \
                f'graph not wired in 180 s (exit {process.poll()}): {graph.diagnostics}'
            yield graph
        finally:
            stop_group(process, signal.SIGINT, timeout=120)
            log.seek(0)
            graph.output = log.read()
            log.close()
            stop.set()
            spinner.join()
            close_test_node(context, node, executor)
            print(graph.output)  # shown by pytest when the test fails
    finally:
        kill_tree(process)
    assert process.returncode == 0 and 'all nodes stopped cleanly' in graph.output, graph.output
    assert_no_traceback(graph.output)


def start_player(bag, *args):
    """perception-bag-play ``--start-paused`` in a process group of its own (``resume`` starts
    the playback), output in ``player.log``."""
    log = tempfile.TemporaryFile('w+')
    player = popen_group(['perception-bag-play', str(bag), '--start-paused', *args],
                         stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, text=True)
    player.log = log
    return player


def resume(player):
    """Start the playback of a ``start_player`` player."""
    player.stdin.write('\n')
    player.stdin.close()


def close_player(player):
    """Kill a ``start_player`` player (if still running) with its group; returns its output."""
    kill_tree(player)
    if not player.log.closed:
        player.log.seek(0)
        player.output = player.log.read()
        player.log.close()
    return player.output


def finish_player(player, timeout=240):
    """Wait for a player's end (TimeoutExpired after ``timeout``), then ``close_player``."""
    try:
        player.wait(timeout)
    finally:
        output = close_player(player)
    return output


def play_bag(graph, bag, *args):
    """play_bags for one bag."""
    return play_bags(graph, [bag], *args)[0]


def play_bags(graph, bags, *args, rate=0.5):
    """Play ``bags`` (one player each, e.g. one per camera) into ``graph`` at half speed (the
    nodes queue reliable inputs): the playback starts once every node of the graph reports a
    matched publisher on its camera topic (and, when ``--clock`` is given, on /clock, as does
    the listener's /clock reader: a CI run lost every tick of a short bag to its late match).
    Each player must exit 0 without a traceback; returns their outputs."""
    players = [start_player(bag, '--rate', str(rate), '--quiet', '--wait-for-subscribers', '60',
                            '--min-subscribers', '2', *args) for bag in bags]
    try:
        clock = '--clock' in args
        listening = lambda: not clock or graph.clock_sub.get_publisher_count() >= len(players)  # noqa: E731
        assert wait_until(lambda: (graph.inputs_matched(clock) and listening())
                          or any(p.poll() is not None for p in players), 60), \
            f'the nodes never matched the players: {graph.diagnostics}'
        for player in players:
            resume(player)
        outputs = [finish_player(player) for player in players]
    finally:
        for player in players:
            close_player(player)  # on every exit path
    for player, output in zip(players, outputs):
        assert player.returncode == 0, output
        assert_no_traceback(output)
    return outputs
