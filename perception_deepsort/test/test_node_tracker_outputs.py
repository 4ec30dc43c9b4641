"""tracker_node in this process: tracks go out first; the annotated image only for a subscriber."""
import numpy as np
import pytest
import rclpy
from std_msgs.msg import Header

from perception_deepsort.tracker_node import TrackerNode
from perception_maskrcnn.detections import Detections
from perception_maskrcnn.frame_timing import FrameTiming, parse_timing
from perception_maskrcnn.image_conversion import array_to_image
from perception_maskrcnn.ros_conversions import detections_to_msgs
from perception_maskrcnn.ros_testing import stamp


class FakePublisher:
    """Records what is published, in a shared order list; reports a set subscriber count."""

    def __init__(self, name, order, subscribers=1):
        self.name, self.order, self.subscribers, self.sent = name, order, subscribers, []

    def publish(self, msg):
        self.order.append(self.name)
        self.sent.append(msg)

    def get_subscription_count(self):
        return self.subscribers


def start_node(*params):
    """A TrackerNode on the default context with ``params``; fake publishers record outputs."""
    args = ['--ros-args', '-p', 'n_init:=1']
    for p in params:
        args += ['-p', p]
    rclpy.init(args=args)
    tracker = TrackerNode()
    order = []
    tracker._pub_tracks = FakePublisher('tracks', order)
    tracker._pub_detections = FakePublisher('detections', order)
    tracker._pub_image = FakePublisher('image', order, subscribers=0)
    return tracker, order


@pytest.fixture
def node():
    tracker, order = start_node('embedder:=histogram')
    yield tracker, order
    tracker.destroy_node()
    rclpy.try_shutdown()


def frame(sec):
    """Detections and image messages of one 160x100 frame with one car."""
    header = Header(stamp=stamp(sec, 5), frame_id='cam')
    dets = Detections([[10 + 4 * sec, 30, 50 + 4 * sec, 55]], [0.9], [0], ['car'])
    det_msg, _ = detections_to_msgs(dets, header, 160, 100)
    image = np.full((100, 160, 3), 60, np.uint8)
    return det_msg, array_to_image(image, 'rgb8', header)


def test_no_subscriber_no_annotated_image_but_tracks_keep_the_input_stamp(node):
    tracker, order = node
    for sec in (1, 2):
        det_msg, image_msg = frame(sec)
        tracker.track(det_msg, None, image_msg)
    assert order == ['tracks', 'detections'] * 2          # nothing drawn for nobody
    assert [m.header.stamp.sec for m in tracker._pub_tracks.sent] == [1, 2]
    assert tracker._pub_tracks.sent[-1].header.stamp.nanosec == 5
    assert tracker.counts['frames'] == 2


def test_with_a_subscriber_tracks_go_out_before_the_annotated_image(node):
    tracker, order = node
    tracker._pub_image.subscribers = 1
    det_msg, image_msg = frame(3)
    timing = FrameTiming(3_000_000_005)
    tracker.track(det_msg, None, image_msg, timing)
    assert order == ['tracks', 'detections', 'image']
    assert tracker._pub_image.sent[0].header.stamp.sec == 3
    stages = parse_timing(timing.line())[3_000_000_005]
    assert {'decode', 'update', 'build', 'publish', 'tracks_out', 'draw'} <= set(stages)


def test_the_image_is_not_waited_for_when_nothing_uses_it():
    tracker, _ = start_node('embedder:=none', 'camera_motion:=false')
    try:
        assert not tracker.tracker.needs_image and 'image' in tracker._subs
        tracker._subs['image'].get_publisher_count = lambda: 1  # a camera is there
        assert 'image' not in tracker._expected_parts()  # no use for it: tracks go out at once
        tracker._pub_image.subscribers = 1
        assert 'image' in tracker._expected_parts()      # somebody watches the annotated image
    finally:
        tracker.destroy_node()
        rclpy.try_shutdown()
