"""tracker_node over DDS: tracks go out first; the annotated image is drawn only for a subscriber;
without a camera, every detections message is a frame.

The node runs as a real process with its per-frame timing at debug level: a 'draw' stage in a
frame's timing line means the annotated image was drawn for that frame.
"""
import numpy as np
import pytest
from perception_msgs.msg import TrackedObjectArray
from sensor_msgs.msg import Image
from std_msgs.msg import Header
from vision_msgs.msg import Detection2DArray

from perception_ros_glue.detections import Detections
from perception_ros_glue.frame_timing import parse_timing
from perception_ros_glue.image_conversion import array_to_image
from perception_ros_glue.node_params import OUTPUT_QOS
from perception_ros_glue.ros_conversions import detections_to_msgs
from perception_ros_glue.ros_testing import (NodeProcess, close_test_node, make_test_node,
                                             resend_until, spin_until, stamp, wait_for_peers)

DISCOVERY_S = 90.0  # node start-up imports torch: slow on a busy 2-core machine
REPLY_S = 15.0
W, H = 160, 100


class Peer:
    """Publishes detections and images; collects tracks and annotated images by stamp (s)."""

    def __init__(self):
        self.context, self.node, self.executor = make_test_node('tracker_outputs_peer')
        self.pub_det = self.node.create_publisher(Detection2DArray, 'detections', OUTPUT_QOS)
        self.pub_image = self.node.create_publisher(Image, 'image', OUTPUT_QOS)
        self.tracks, self.images = {}, {}
        self.tracks_sub = self.node.create_subscription(
            TrackedObjectArray, 'tracks', lambda m: self.tracks.__setitem__(m.header.stamp.sec, m),
            50)
        self.image_sub = None

    def watch_images(self):
        """Subscribe to the annotated image (the node then starts drawing it)."""
        self.image_sub = self.node.create_subscription(
            Image, 'tracks/image', lambda m: self.images.__setitem__(m.header.stamp.sec, m), 50)
        return self.image_sub

    def send(self, sec: int, image=True):
        """Publish frame ``sec``: one car moving right (image first, then detections)."""
        header = Header(stamp=stamp(sec, 5), frame_id='cam')
        dets = Detections([[10 + 4 * sec, 30, 50 + 4 * sec, 55]], [0.9], [0], ['car'])
        det_msg, _ = detections_to_msgs(dets, header, W, H)
        if image:
            pixels = np.full((H, W, 3), 60, np.uint8)
            self.pub_image.publish(array_to_image(pixels, 'rgb8', header))
        self.pub_det.publish(det_msg)

    def frame(self, sec: int, wanted, image=True):
        """Send frame ``sec`` until ``wanted()`` holds (a copy that does arrive is skipped)."""
        return resend_until(self.executor, lambda: self.send(sec, image), wanted, REPLY_S)

    def close(self):
        close_test_node(self.context, self.node, self.executor)


def start(*params, camera=True):
    """tracker_node with debug timing lines, n_init 1 and ``params``; and a discovered peer
    (without an image publisher unless ``camera``)."""
    args = ['-p', 'n_init:=1', '-p', 'qos:=reliable', '--log-level', 'tracker_node:=debug']
    for p in params:
        args += ['-p', p]
    proc = NodeProcess('tracker_node', args)
    peer = Peer()
    if not camera:
        peer.node.destroy_publisher(peer.pub_image)
    endpoints = [peer.pub_det, peer.tracks_sub] + ([peer.pub_image] if camera else [])
    assert wait_for_peers(peer.executor, endpoints, DISCOVERY_S), proc.output()
    return proc, peer


@pytest.fixture
def histogram_node():
    proc, peer = start('embedder:=histogram')
    yield proc, peer
    peer.close()
    proc.close()


def timing_of(proc, sec):
    """The node's timing stages of frame ``sec`` (empty until logged)."""
    return parse_timing(proc.output()).get(sec * 10**9 + 5, {})


def first_timed_frame(proc, peer) -> int:
    """Send frames 1, 2, ... until one is tracked on its image (a timing line): until the node
    has matched our image writer too, a frame is tracked on its detections alone and its image,
    re-sent, is a repeated stamp (a CI run lost frame 1 so)."""
    for sec in range(1, 1 + int(REPLY_S)):
        peer.send(sec)
        if spin_until(peer.executor, lambda: sec in peer.tracks and timing_of(proc, sec), 1.0):
            return sec
    raise AssertionError(proc.output())


def test_annotated_image_only_for_a_subscriber_and_after_the_tracks(histogram_node):
    proc, peer = histogram_node
    first = first_timed_frame(proc, peer)
    for sec in (first, first + 1):
        assert peer.frame(sec, lambda: sec in peer.tracks and timing_of(proc, sec)), proc.output()
        assert peer.tracks[sec].header.stamp.nanosec == 5
        assert 'draw' not in timing_of(proc, sec), 'drew an image nobody subscribes to'
    sub = peer.watch_images()
    assert wait_for_peers(peer.executor, [sub], DISCOVERY_S)
    last = first + 2
    assert peer.frame(last, lambda: last in peer.images and timing_of(proc, last)), proc.output()
    assert peer.images[last].header.stamp.sec == last and peer.images[last].header.frame_id == 'cam'
    stages = list(timing_of(proc, last))
    # Tracks are published before the image is drawn: drawing must not delay them.
    assert stages.index('tracks_out') < stages.index('draw') < stages.index('image_publish')


def test_without_a_camera_every_detections_message_is_a_frame():
    # A detector-only graph (no image publisher): tracks go out on the detections alone, long
    # before the (deliberately huge) pairing timeout.
    proc, peer = start('embedder:=none', 'sync_timeout_s:=60.0', camera=False)
    try:
        for sec in (1, 2, 3):
            assert peer.frame(sec, lambda: sec in peer.tracks, image=False), proc.output()
        [car] = peer.tracks[3].objects
        assert car.hits == 3 and not car.predicted
    finally:
        peer.close()
        proc.close()
