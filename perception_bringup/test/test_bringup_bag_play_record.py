"""perception-bag-play and perception-bag-record as real processes talking DDS to an rclpy node.

A process that sees a reader may not be matched by it yet (what it sends meanwhile is lost), so
the player starts paused and plays once the readers report the match, and the recorder logs its
matches; nothing is taken on a delay."""
import signal
import subprocess
import threading
import time

import numpy as np
import pytest
from rclpy.duration import Duration
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.serialization import deserialize_message
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from perception_bringup import bag_io
from perception_bringup.testing import (FPS, START_S, assert_no_traceback, close_player,
                                        finish_player, make_bag, resume, start_player)
from perception_ros_glue.ros_testing import (ToolProcess, close_test_node, make_test_node, stamp,
                                             wait_until)

RELIABLE = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)


@pytest.fixture
def ros():
    """(node, executor) of a private rclpy context, spun in a background thread."""
    context, node, executor = make_test_node('bringup_test')
    stop = threading.Event()
    thread = threading.Thread(target=lambda: [executor.spin_once(timeout_sec=0.05)
                                              for _ in iter(stop.is_set, True)], daemon=True)
    thread.start()
    yield node
    stop.set()
    thread.join()
    close_test_node(context, node, executor)


def ns(time_msg):
    """Nanoseconds of a builtin_interfaces/Time."""
    return time_msg.sec * 10**9 + time_msg.nanosec


def test_play_publishes_original_stamps_and_clock_at_the_bag_rate(tmp_path, ros):
    frames, rate = 10, 2.0
    bag = make_bag(tmp_path, frames=frames)
    images, clocks = [], []
    image_sub = ros.create_subscription(Image, '/camera/image_raw', images.append, RELIABLE)
    clock_sub = ros.create_subscription(Clock, '/clock', lambda m: clocks.append(ns(m.clock)),
                                        RELIABLE)
    play = start_player(bag, '--clock', '--rate', str(rate), '--wait-for-subscribers', '20',
                        '--publish-log', str(tmp_path / 'log.csv'))
    try:
        # The player waits until it sees our readers; it plays once they have matched it too.
        assert wait_until(lambda: image_sub.get_publisher_count() == clock_sub.get_publisher_count()
                          == 1, 30), 'the player never appeared'
        resume(play)
        assert wait_until(lambda: len(images) == frames, 30), len(images)
    finally:
        output = finish_player(play, timeout=60)
    assert play.returncode == 0, output
    expected = [round(START_S * 1e9 + i * 1e9 / FPS) for i in range(frames)]
    assert [ns(m.header.stamp) for m in images] == expected
    assert images[0].encoding == 'bgr8' and images[0].width == 96
    assert clocks == expected  # one tick per message, reliable: none lost
    log = (tmp_path / 'log.csv').read_text().splitlines()
    assert log[0] == 'topic,stamp_ns,publish_ns' and len(log) == frames + 1
    assert [int(line.split(',')[1]) for line in log[1:]] == expected
    # Paced by the bag: the player never publishes faster than (bag duration / rate). Judged on
    # the player's own publish times: DDS may deliver a reliable burst late, together.
    published = [int(line.split(',')[2]) for line in log[1:]]
    assert (published[-1] - published[0]) * 1e-9 >= 0.95 * (frames - 1) / FPS / rate
    assert_no_traceback(output)


def test_play_rejects_unknown_topic_with_a_clear_error(tmp_path):
    bag = make_bag(tmp_path, frames=2)
    play = subprocess.run(['perception-bag-play', str(bag), '--topics', '/nope'],
                          capture_output=True, text=True, timeout=60)
    assert play.returncode == 2
    assert 'has no topic /nope (topics: /camera/image_raw)' in play.stderr
    assert_no_traceback(play.stderr)


def _matched(log_text, count, topic='/camera/image_raw'):
    """Whether perception-bag-record logged ``count`` publishers matched on ``topic``."""
    return f'matched {count} publisher(s) on {topic}' in log_text


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM], ids=['SIGINT', 'SIGTERM'])
def test_record_keeps_every_delivered_message_and_stops_cleanly_mid_stream(tmp_path, ros, sig):
    """Everything the recorder acknowledged before the signal is in the bag (none lost at the
    stop), the messages still coming meanwhile form a gap-free continuation, and the bag
    closes readable."""
    out = tmp_path / 'recorded'
    publisher = ros.create_publisher(Image, '/camera/image_raw', RELIABLE)
    recorder = ToolProcess(['perception-bag-record', str(out), '--topics', '/camera/image_raw'])
    pixels = np.arange(32 * 24 * 3, dtype=np.uint8) % 251

    def send(i):
        publisher.publish(Image(header=Header(stamp=stamp(100 + i, 5), frame_id='cam'), height=24,
                                width=32, encoding='rgb8', step=96, data=pixels.tobytes()))
    try:
        # Matched both ways: we see its reader, it reports our writer.
        assert wait_until(lambda: publisher.get_subscription_count() == 1
                          and _matched(recorder.output(), 1), 30), recorder.output()
        acked = 40
        for i in range(acked):
            send(i)
        # Reliable: acknowledged means in the recorder's reader, whatever its callbacks did yet.
        assert publisher.wait_for_all_acked(Duration(seconds=30))
        # Keep publishing while the signal arrives: the bag must still close readable.
        recorder.proc.send_signal(sig)
        for i in range(acked, acked + 10):
            send(i)
        assert recorder.wait(30) == 0, recorder.output()
        output = recorder.output()
    finally:
        recorder.close()
    assert_no_traceback(output)
    reader = bag_io.open_reader(out)
    messages = [deserialize_message(raw, Image) for _, _, raw in reader.messages()]
    reader.close()
    assert acked <= len(messages) <= acked + 10
    assert [m.header.stamp.sec for m in messages] == list(range(100, 100 + len(messages)))
    assert bytes(messages[-1].data) == pixels.tobytes()
    assert f'/camera/image_raw: {len(messages)}' in output


def test_play_then_record_round_trip_to_mcap_stops_after_duration(tmp_path):
    """Every played message reaches an MCAP bag byte for byte; --duration ends the recorder."""
    frames, duration = 10, 15.0
    bag = make_bag(tmp_path, frames=frames)
    out = tmp_path / 'recorded'
    start = time.monotonic()
    recorder = ToolProcess(['perception-bag-record', str(out), '--topics', '/camera/image_raw',
                            '--storage', 'mcap', '--duration', str(duration)])
    play = start_player(bag, '--rate', '0', '--quiet', '--wait-for-subscribers', str(duration - 5))
    try:
        # The recorder subscribes once it sees the player; it plays once matched both ways.
        assert wait_until(lambda: _matched(recorder.output(), 1), duration - 5), recorder.output()
        resume(play)
        play_output = finish_player(play, timeout=60)
        assert recorder.wait(60) == 0, recorder.output()
        output = recorder.output()
    finally:
        close_player(play)
        recorder.close()
    elapsed = time.monotonic() - start
    assert play.returncode == 0, play_output
    assert duration <= elapsed < duration + 20, elapsed
    assert_no_traceback(output, play_output)
    assert any(p.suffix == '.mcap' for p in out.iterdir())
    reader = bag_io.open_reader(bag)
    played = [raw for _, _, raw in reader.messages()]
    reader.close()
    reader = bag_io.open_reader(out)
    recorded = [raw for _, _, raw in reader.messages()]
    reader.close()
    assert [bytes(r) for r in recorded] == [bytes(p) for p in played]
    assert f'/camera/image_raw: {frames}' in output


def test_play_loop_repeats_the_bag_with_its_original_stamps_until_ctrl_c(tmp_path, ros):
    frames = 5
    bag = make_bag(tmp_path, frames=frames)
    images = []
    image_sub = ros.create_subscription(Image, '/camera/image_raw',
                                        lambda m: images.append(ns(m.header.stamp)), RELIABLE)
    play = start_player(bag, '--loop', '--rate', '5', '--quiet', '--wait-for-subscribers', '20')
    try:
        assert wait_until(lambda: image_sub.get_publisher_count() == 1, 30)
        resume(play)
        assert wait_until(lambda: len(images) >= 2 * frames + 1, timeout=60), images
        play.send_signal(signal.SIGINT)
        play.wait(30)
    finally:
        output = close_player(play)
    assert play.returncode == 0, output
    assert_no_traceback(output)
    expected = [round(START_S * 1e9 + i * 1e9 / FPS) for i in range(frames)]
    assert images[:2 * frames] == expected + expected
