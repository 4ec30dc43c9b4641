"""detector_node and tracker_node as managed nodes, driven over their real lifecycle services.

The nodes run as processes with ``autostart:=false``; a test node calls ``change_state`` /
``get_state`` over DDS and checks what each state lets through: nothing before configure,
publishers but no input while inactive, detections/tracks only while active. A configure that
fails (missing weights) is a failed transition and the node keeps serving its services.
"""
import signal

import numpy as np
import pytest
from perception_msgs.msg import TrackedObjectArray
from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
from rcl_interfaces.srv import SetParameters
from sensor_msgs.msg import Image
from std_msgs.msg import Header
from vision_msgs.msg import BoundingBox2D, Detection2D, Detection2DArray, ObjectHypothesisWithPose

from perception_ros_glue.image_conversion import array_to_image
from perception_ros_glue.node_params import OUTPUT_QOS
from perception_ros_glue.ros_testing import (LifecycleClient, NodeProcess, close_test_node,
                                             make_test_node, spin_until, stamp)

START_S = 90.0  # process start-up imports torch: slow on a busy 2-core machine
REPLY_S = 30.0
QUIET_S = 2.0  # how long "nothing arrives" is watched for


@pytest.fixture
def peer():
    context, node, executor = make_test_node('lifecycle_peer')
    yield node, executor
    close_test_node(context, node, executor)


def _set_string_params(node, executor, target, **values):
    client = node.create_client(SetParameters, f'{target}/set_parameters')
    assert spin_until(executor, client.service_is_ready, REPLY_S)
    request = SetParameters.Request(parameters=[Parameter(name=name, value=ParameterValue(
        type=ParameterType.PARAMETER_STRING, string_value=value)) for name, value in values.items()])
    future = client.call_async(request)
    assert spin_until(executor, future.done, REPLY_S)
    assert all(r.successful for r in future.result().results)


def _watch(executor, received, seconds):
    """Spin for ``seconds`` (nothing is expected to arrive): returns how many did."""
    before = len(received)
    spin_until(executor, lambda: len(received) > before, seconds)
    return len(received) - before


def test_detector_transitions_over_the_lifecycle_services(peer, tmp_path):
    node, executor = peer
    proc = NodeProcess('detector_node', ['-r', '__node:=lc_detector', '-p', 'autostart:=false',
                                         '-p', 'backend:=maskrcnn',
                                         '-p', f'weights:={tmp_path / "missing.pth"}',
                                         '-r', 'image:=lc_image', '-r', 'detections:=lc_dets'])
    received = []
    node.create_subscription(Detection2DArray, 'lc_dets', received.append, OUTPUT_QOS)
    images = node.create_publisher(Image, 'lc_image', OUTPUT_QOS)
    frame = np.full((240, 320, 3), 90, np.uint8)

    def send(sec):
        images.publish(array_to_image(frame, 'rgb8', Header(stamp=stamp(sec), frame_id='cam')))

    lifecycle = LifecycleClient(node, executor, '/lc_detector')
    try:
        assert lifecycle.wait_for_services(START_S), proc.output()
        assert lifecycle.state() == 'unconfigured'
        # Unconfigured: no publisher, no subscription.
        assert node.count_publishers('/lc_dets') == 0
        assert node.count_subscribers('/lc_image') == 0

        # Missing weights: a failed transition, not a crash; still unconfigured.
        assert lifecycle.transition('configure') is False
        assert proc.proc.poll() is None, proc.output()
        assert lifecycle.state() == 'unconfigured'
        assert 'configure failed' in proc.output() and 'missing.pth' in proc.output()

        _set_string_params(node, executor, '/lc_detector', backend='hog', weights='')
        assert lifecycle.transition('configure') is True, proc.output()
        assert lifecycle.state() == 'inactive'
        # Inactive: publishers exist, the camera is not subscribed.
        assert spin_until(executor, lambda: node.count_publishers('/lc_dets') == 1, REPLY_S)
        assert node.count_subscribers('/lc_image') == 0

        assert lifecycle.transition('activate') is True
        assert lifecycle.state() == 'active'
        assert spin_until(executor, lambda: images.get_subscription_count() > 0, REPLY_S)
        for sec in range(1, int(REPLY_S)):  # best-effort input: resend until one is answered
            send(sec)
            if spin_until(executor, lambda: bool(received), 1.0):
                break
        assert received and received[-1].header.frame_id == 'cam', proc.output()

        assert lifecycle.transition('deactivate') is True
        assert lifecycle.state() == 'inactive'
        assert spin_until(executor, lambda: images.get_subscription_count() == 0, REPLY_S)
        for extra in range(3):
            send(100 + extra)
        assert _watch(executor, received, QUIET_S) == 0

        assert lifecycle.transition('cleanup') is True
        assert lifecycle.state() == 'unconfigured'
        assert spin_until(executor, lambda: node.count_publishers('/lc_dets') == 0, REPLY_S)
        assert lifecycle.transition('shutdown') is True
        assert lifecycle.state() == 'finalized'
        assert proc.stop(signal.SIGINT) == 0, proc.output()
    finally:
        proc.close()


def _detections(sec):
    det = Detection2D(bbox=BoundingBox2D())
    det.bbox.center.position.x, det.bbox.center.position.y = 100.0 + sec, 80.0
    det.bbox.size_x, det.bbox.size_y = 40.0, 90.0
    hyp = ObjectHypothesisWithPose()
    hyp.hypothesis.class_id, hyp.hypothesis.score = 'person', 0.9
    det.results = [hyp]
    return Detection2DArray(header=Header(stamp=stamp(sec), frame_id='cam'), detections=[det])


def test_tracker_tracks_only_while_active_and_autostart_reaches_active(peer):
    node, executor = peer
    managed = NodeProcess('tracker_node', ['-r', '__node:=lc_tracker', '-p', 'autostart:=false',
                                           '-p', 'embedder:=none', '-p', 'publish_annotated:=false',
                                           '-p', 'n_init:=1', '-p', 'qos:=reliable',
                                           '-r', 'detections:=lc_tdets', '-r', 'tracks:=lc_tracks'])
    auto = NodeProcess('tracker_node', ['-r', '__node:=lc_auto', '-p', 'embedder:=none',
                                        '-r', 'detections:=lc_auto_dets'])
    tracks = []
    node.create_subscription(TrackedObjectArray, 'lc_tracks', tracks.append, OUTPUT_QOS)
    dets = node.create_publisher(Detection2DArray, 'lc_tdets', OUTPUT_QOS)
    lifecycle = LifecycleClient(node, executor, '/lc_tracker')
    try:
        assert lifecycle.wait_for_services(START_S), managed.output()
        assert lifecycle.state() == 'unconfigured'
        assert lifecycle.transition('configure') is True, managed.output()
        assert lifecycle.transition('activate') is True, managed.output()
        assert spin_until(executor, lambda: dets.get_subscription_count() > 0, REPLY_S)
        assert spin_until(executor, lambda: node.count_publishers('/lc_tracks') == 1, REPLY_S)
        for sec in range(1, 4):
            dets.publish(_detections(sec))
            assert spin_until(executor, lambda: len(tracks) == sec, REPLY_S), managed.output()
        assert [t.header.stamp.sec for t in tracks] == [1, 2, 3]
        assert tracks[-1].objects and tracks[-1].objects[0].track_id == tracks[0].objects[0].track_id

        assert lifecycle.transition('deactivate') is True
        assert spin_until(executor, lambda: dets.get_subscription_count() == 0, REPLY_S)
        dets.publish(_detections(4))
        assert _watch(executor, tracks, QUIET_S) == 0
        # Reactivated: the tracks (and their ids) survived deactivation.
        assert lifecycle.transition('activate') is True
        assert spin_until(executor, lambda: dets.get_subscription_count() > 0, REPLY_S)
        dets.publish(_detections(5))
        assert spin_until(executor, lambda: len(tracks) == 4, REPLY_S), managed.output()
        assert tracks[-1].objects[0].track_id == tracks[0].objects[0].track_id

        auto_lifecycle = LifecycleClient(node, executor, '/lc_auto')
        assert auto_lifecycle.wait_for_services(START_S), auto.output()
        assert spin_until(executor, lambda: node.count_subscribers('/lc_auto_dets') == 1, REPLY_S)
        assert auto_lifecycle.state() == 'active'
        assert managed.stop(signal.SIGINT) == 0 and auto.stop(signal.SIGINT) == 0
    finally:
        managed.close()
        auto.close()
