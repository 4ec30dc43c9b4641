"""perception-bag-play and perception-bag-record as real processes talking DDS to an rclpy node."""
import signal
import subprocess
import threading
import time

import numpy as np
import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.serialization import deserialize_message
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from perception_bringup import bag_io
from perception_bringup.testing import FPS, START_S, assert_no_traceback, make_bag, wait_until
from perception_ros_glue.ros_testing import close_test_node, make_test_node, stamp

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
    ros.create_subscription(Image, '/camera/image_raw', images.append, RELIABLE)
    ros.create_subscription(Clock, '/clock', lambda m: clocks.append(ns(m.clock)), RELIABLE)
    play = subprocess.run(['perception-bag-play', str(bag), '--clock', '--rate', str(rate),
                           '--wait-for-subscribers', '20', '--publish-log', str(tmp_path / 'log.csv')],
                          capture_output=True, text=True, timeout=60)
    assert play.returncode == 0, play.stderr
    deadline = time.monotonic() + 5
    while len(images) < frames and time.monotonic() < deadline:
        time.sleep(0.05)
    expected = [round(START_S * 1e9 + i * 1e9 / FPS) for i in range(frames)]
    assert [ns(m.header.stamp) for m in images] == expected
    assert images[0].encoding == 'bgr8' and images[0].width == 96
    assert clocks and set(clocks) <= set(expected) and clocks == sorted(clocks)
    assert clocks[-1] == expected[-1]
    log = (tmp_path / 'log.csv').read_text().splitlines()
    assert log[0] == 'topic,stamp_ns,publish_ns' and len(log) == frames + 1
    assert [int(line.split(',')[1]) for line in log[1:]] == expected
    # Paced by the bag: the player never publishes faster than (bag duration / rate). Judged on
    # the player's own publish times: DDS may deliver a reliable burst late, together.
    published = [int(line.split(',')[2]) for line in log[1:]]
    assert (published[-1] - published[0]) * 1e-9 >= 0.95 * (frames - 1) / FPS / rate
    assert_no_traceback(play.stdout, play.stderr)


def test_play_rejects_unknown_topic_with_a_clear_error(tmp_path):
    bag = make_bag(tmp_path, frames=2)
    play = subprocess.run(['perception-bag-play', str(bag), '--topics', '/nope'],
                          capture_output=True, text=True, timeout=60)
    assert play.returncode == 2
    assert 'has no topic /nope (topics: /camera/image_raw)' in play.stderr
    assert_no_traceback(play.stderr)


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM], ids=['SIGINT', 'SIGTERM'])
def test_record_writes_a_readable_bag_and_stops_cleanly_mid_stream(tmp_path, ros, sig):
    out = tmp_path / 'recorded'
    publisher = ros.create_publisher(Image, '/camera/image_raw', RELIABLE)
    recorder = subprocess.Popen(['perception-bag-record', str(out), '--topics', '/camera/image_raw'],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    while publisher.get_subscription_count() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert publisher.get_subscription_count() == 1, 'recorder never subscribed'
    pixels = np.arange(32 * 24 * 3, dtype=np.uint8) % 251
    sent = 0
    # Keep publishing while the signal arrives: the bag must still close readable.
    for i in range(40):
        msg = Image(header=Header(stamp=stamp(100 + i, 5), frame_id='cam'), height=24, width=32,
                    encoding='rgb8', step=96, data=pixels.tobytes())
        publisher.publish(msg)
        sent += 1
        if i == 30:
            recorder.send_signal(sig)
        time.sleep(0.02)
    output, _ = recorder.communicate(timeout=30)
    assert recorder.returncode == 0, output
    assert_no_traceback(output)
    reader = bag_io.open_reader(out)
    messages = [deserialize_message(raw, Image) for _, _, raw in reader.messages()]
    reader.close()
    assert 20 <= len(messages) <= sent
    assert [m.header.stamp.sec for m in messages] == list(range(100, 100 + len(messages)))
    assert bytes(messages[-1].data) == pixels.tobytes()
    assert f'/camera/image_raw: {len(messages)}' in output


def test_play_then_record_round_trip_to_mcap_stops_after_duration(tmp_path):
    """Every played message reaches an MCAP bag byte for byte; --duration ends the recorder."""
    frames, duration = 10, 15.0
    bag = make_bag(tmp_path, frames=frames)
    out = tmp_path / 'recorded'
    start = time.monotonic()
    recorder = subprocess.Popen(['perception-bag-record', str(out), '--topics', '/camera/image_raw',
                                 '--storage', 'mcap', '--duration', str(duration)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    play = subprocess.run(['perception-bag-play', str(bag), '--rate', '0', '--quiet',
                           '--wait-for-subscribers', str(duration - 5)],
                          capture_output=True, text=True, timeout=60)
    output, _ = recorder.communicate(timeout=60)
    elapsed = time.monotonic() - start
    assert play.returncode == 0, play.stderr
    assert recorder.returncode == 0, output
    assert duration <= elapsed < duration + 20, elapsed
    assert_no_traceback(output, play.stdout, play.stderr)
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
    ros.create_subscription(Image, '/camera/image_raw', lambda m: images.append(ns(m.header.stamp)),
                            RELIABLE)
    play = subprocess.Popen(['perception-bag-play', str(bag), '--loop', '--rate', '5', '--quiet',
                             '--wait-for-subscribers', '20'],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_until(lambda: len(images) >= 2 * frames + 1, timeout=60), images
    finally:
        play.send_signal(signal.SIGINT)
        output, _ = play.communicate(timeout=30)
    assert play.returncode == 0, output
    assert_no_traceback(output)
    expected = [round(START_S * 1e9 + i * 1e9 / FPS) for i in range(frames)]
    assert images[:2 * frames] == expected + expected
