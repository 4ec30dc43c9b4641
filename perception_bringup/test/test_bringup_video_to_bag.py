"""perception-video-to-bag: frames, stamps and encodings survive the round trip through a bag."""
import cv2
import numpy as np
import pytest
from rclpy.serialization import deserialize_message

from perception_bringup.testing import FPS, START_S, assert_no_traceback, make_bag, read_video, run_tool
from perception_bringup import bag_io


def read_bag(path):
    """[(topic, bag timestamp, rclpy message)] of every message."""
    reader = bag_io.open_reader(path)
    try:
        return [(c.topic, t, deserialize_message(raw, bag_io.message_class(c.msgtype)))
                for c, t, raw in reader.messages()]
    finally:
        reader.close()


@pytest.mark.parametrize('storage', ['sqlite3', 'mcap'])
def test_raw_bgr8_round_trip_keeps_pixels_and_stamps(tmp_path, storage):
    bag = make_bag(tmp_path, frames=7, extra=['--storage', storage, '--frame-id', 'dashcam'])
    expected = read_video(tmp_path / 'in_bag.avi')
    messages = read_bag(bag)
    assert len(messages) == len(expected) == 7
    for i, ((topic, timestamp, msg), frame) in enumerate(zip(messages, expected)):
        stamp_ns = msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
        assert topic == '/camera/image_raw'
        assert stamp_ns == timestamp == round(START_S * 1e9 + i * 1e9 / FPS)
        assert (msg.encoding, msg.height, msg.width, msg.step) == ('bgr8', 64, 96, 96 * 3)
        assert msg.header.frame_id == 'dashcam'
        np.testing.assert_array_equal(np.frombuffer(bytes(msg.data), np.uint8).reshape(64, 96, 3), frame)


def test_rgb8_and_compressed_encodings(tmp_path):
    expected = read_video(make_bag(tmp_path, frames=3).with_suffix('.avi'))
    rgb = read_bag(make_bag(tmp_path, 'rgb', frames=3, extra=['--encoding', 'rgb8']))
    jpeg = read_bag(make_bag(tmp_path, 'jpeg', frames=3, extra=['--compressed', '--max-frames', '2']))
    pixels = np.frombuffer(bytes(rgb[0][2].data), np.uint8).reshape(64, 96, 3)
    assert rgb[0][2].encoding == 'rgb8'
    np.testing.assert_array_equal(pixels, expected[0][:, :, ::-1])
    assert len(jpeg) == 2 and jpeg[0][0] == '/camera/image_raw/compressed'
    assert jpeg[0][2].format == 'jpeg'
    decoded = cv2.imdecode(np.frombuffer(bytes(jpeg[0][2].data), np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (64, 96, 3)
    assert np.abs(decoded.astype(int) - expected[0]).mean() < 8  # jpeg is lossy, not different


def test_bad_input_is_one_clear_line_and_nothing_is_overwritten(tmp_path):
    missing = run_tool('perception-video-to-bag', str(tmp_path / 'nope.avi'), str(tmp_path / 'out'))
    assert missing.returncode == 2
    assert 'nope.avi: not a readable video file' in missing.stderr
    bag = make_bag(tmp_path, frames=2)
    again = run_tool('perception-video-to-bag', str(tmp_path / 'in_bag.avi'), str(bag))
    assert again.returncode == 2 and 'exists already' in again.stderr
    assert_no_traceback(missing.stderr, again.stderr)
    assert len(read_bag(bag)) == 2
