"""The node graph (perception-run-graph) with its options: simulated time from a played bag's
/clock, and a camera topic other than the default. Each test starts its own graph."""
import contextlib
import signal
import subprocess
import threading

from perception_msgs.msg import TrackedObjectArray
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock

from perception_bringup import video_to_bag
from perception_bringup.testing import (FPS, START_S, assert_no_traceback, people_bag, wait_until,
                                        write_people_config)
from perception_ros_glue.ros_testing import close_test_node, make_test_node

FRAMES = 6
BAG_STAMPS = [round(START_S * 1e9 + i * 1e9 / FPS) for i in range(FRAMES)]
NODES = {'detector_node', 'tracker_node'}


def stamp_ns(time_msg) -> int:
    return time_msg.sec * 10**9 + time_msg.nanosec


@contextlib.contextmanager
def graph_and_listener(tmp_path, image_topic, *graph_args):
    """Start perception-run-graph and a spun listener node (collects /tracks and /clock); wait
    until the graph is wired as seen from here; on exit Ctrl-C the graph and check it stopped
    cleanly. Yields ``(node, tracks, clocks)``."""
    config = write_people_config(tmp_path / 'people.yaml')
    context, node, executor = make_test_node('graph_listener')
    tracks, clocks = [], []
    reliable = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
    track_sub = node.create_subscription(TrackedObjectArray, '/tracks', tracks.append, reliable)
    node.create_subscription(Clock, '/clock', clocks.append, 100)
    stop = threading.Event()
    spinner = threading.Thread(target=lambda: [executor.spin_once(timeout_sec=0.05)
                                               for _ in iter(stop.is_set, True)], daemon=True)
    spinner.start()
    graph = subprocess.Popen(['perception-run-graph', '--config', str(config), '--image-topic',
                              image_topic, '--stop-timeout', '60', *graph_args],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = ''
    try:
        wired = wait_until(lambda: node.count_subscribers(image_topic) >= 2
                           and node.count_publishers('/detections') >= 1
                           and node.count_subscribers('/detections') >= 1
                           and track_sub.get_publisher_count() >= 1
                           or graph.poll() is not None, timeout=180)
        assert wired and graph.poll() is None, f'graph not wired in 180 s (exit {graph.poll()})'
        yield node, tracks, clocks
    finally:
        graph.send_signal(signal.SIGINT)
        output, _ = graph.communicate(timeout=120)
        stop.set()
        spinner.join()
        close_test_node(context, node, executor)
        print(output)  # shown by pytest when the test fails
    assert graph.returncode == 0 and 'all nodes stopped cleanly' in output, output
    assert_no_traceback(output)


def play(bag, *args):
    """perception-bag-play at half speed into both nodes (they queue reliable inputs)."""
    result = subprocess.run(['perception-bag-play', str(bag), '--rate', '0.5', '--quiet',
                             '--wait-for-subscribers', '60', '--min-subscribers', '2',
                             '--delay', '1', *args], capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result.stdout, result.stderr)


def test_sim_time_nodes_follow_the_played_clock_and_tracks_keep_the_bag_stamps(tmp_path):
    bag = people_bag(tmp_path, frames=FRAMES)
    with graph_and_listener(tmp_path, '/camera/image_raw', '--use-sim-time') as (node, tracks, clocks):
        # With use_sim_time a node's clock is driven by a /clock subscription of its own (and
        # only then): both nodes must have one before anything plays.
        assert wait_until(lambda: NODES <= {i.node_name for i in
                                            node.get_subscriptions_info_by_topic('/clock')}, 60), \
            node.get_subscriptions_info_by_topic('/clock')
        play(bag, '--clock')
        assert wait_until(lambda: len(tracks) >= FRAMES, 90), len(tracks)
    # /clock carried the bag's time (1000 s after the epoch, far from the wall clock), in order
    # (our /clock reader may have matched the player only after its first tick) ...
    ticks = [stamp_ns(c.clock) for c in clocks]
    assert ticks and ticks == sorted(ticks) and set(ticks) <= set(BAG_STAMPS), ticks
    assert ticks[-1] == BAG_STAMPS[-1], ticks
    # ... and every frame came out of both nodes with its bag stamp.
    assert sorted(stamp_ns(m.header.stamp) for m in tracks) == BAG_STAMPS


def test_non_default_camera_topic_through_the_graph(tmp_path):
    topic = '/front/image_color'
    video = people_bag(tmp_path, frames=FRAMES, name='people').with_suffix('.avi')
    bag = tmp_path / 'front_bag'
    video_to_bag.main([str(video), str(bag), '--topic', topic, '--start-time', str(START_S)])
    with graph_and_listener(tmp_path, topic) as (node, tracks, _):
        # Both nodes listen on the camera topic given, none on the default one.
        assert node.count_subscribers('/camera/image_raw') == 0
        play(bag)
        assert wait_until(lambda: len(tracks) >= FRAMES, 90), len(tracks)
    assert sorted(stamp_ns(m.header.stamp) for m in tracks) == BAG_STAMPS
    assert any(m.objects for m in tracks), 'the walkers on the camera topic are tracked'
