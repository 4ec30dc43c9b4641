"""detector_node and tracker_node as managed nodes, driven over their real lifecycle services.

The nodes run as processes with ``autostart:=false``; a test node calls ``change_state`` /
``get_state`` over DDS and checks what each state lets through: nothing before configure,
publishers but no input while inactive, detections/tracks only while active. A configure that
fails (missing weights) is a failed transition and the node keeps serving its services.

Each node runs in a namespace of its own (a node another test left behind cannot answer). A
message is re-sent, with a new stamp each time, until the first answer proves the node's
reader matched ours; what is sent after that arrives (reliable), and checks that nothing
comes through look only at stamps sent after that point.
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
                                             make_test_node, spin_until, stamp, unique_namespace)

START_S = 90.0  # process start-up imports torch: slow on a busy 2-core machine
REPLY_S = 30.0
QUIET_S = 2.0  # how long "nothing arrives" is watched for


@pytest.fixture
def peer():
    """(node, executor) of a test node in a namespace of this test alone."""
    context, node, executor = make_test_node('lifecycle_peer', unique_namespace('lc'))
    yield node, executor
    close_test_node(context, node, executor)


def _send_until(executor, send, seen, first_sec, timeout=REPLY_S):
    """``send(sec)`` with sec = first_sec, first_sec + 1, ... once a second until ``seen()``;
    returns the last sec sent."""
    for sec in range(first_sec, first_sec + int(timeout)):
        send(sec)
        if spin_until(executor, seen, 1.0):
            return sec
    raise AssertionError(f'nothing answered within {timeout} s')


def _set_string_params(node, executor, target, **values):
    client = node.create_client(SetParameters, f'{target}/set_parameters')
    assert spin_until(executor, client.service_is_ready, REPLY_S)
    request = SetParameters.Request(parameters=[Parameter(name=name, value=ParameterValue(
        type=ParameterType.PARAMETER_STRING, string_value=value)) for name, value in values.items()])
    future = client.call_async(request)
    assert spin_until(executor, future.done, REPLY_S)
    assert all(r.successful for r in future.result().results)


def _watch(executor, received, seconds, from_sec):
    """Spin for ``seconds`` (nothing is expected to arrive): how many of stamp >= ``from_sec``
    did (earlier ones may still be on their way)."""
    def late():
        return sum(m.header.stamp.sec >= from_sec for m in received)
    spin_until(executor, lambda: late() > 0, seconds)
    return late()


def test_detector_transitions_over_the_lifecycle_services(peer, tmp_path):
    node, executor = peer
    ns = node.get_namespace()
    proc = NodeProcess('detector_node', ['-r', '__node:=lc_detector', '-r', f'__ns:={ns}',
                                         '-p', 'autostart:=false', '-p', 'backend:=maskrcnn',
                                         '-p', f'weights:={tmp_path / "missing.pth"}',
                                         '-r', 'image:=lc_image', '-r', 'detections:=lc_dets'])
    received = []
    node.create_subscription(Detection2DArray, 'lc_dets', received.append, OUTPUT_QOS)
    images = node.create_publisher(Image, 'lc_image', OUTPUT_QOS)
    frame = np.full((240, 320, 3), 90, np.uint8)

    def send(sec):
        images.publish(array_to_image(frame, 'rgb8', Header(stamp=stamp(sec), frame_id='cam')))

    lifecycle = LifecycleClient(node, executor, f'{ns}/lc_detector')
    try:
        assert lifecycle.wait_for_services(START_S), proc.output()
        assert lifecycle.state() == 'unconfigured'
        # Unconfigured: no publisher, no subscription.
        assert node.count_publishers(f'{ns}/lc_dets') == 0
        assert node.count_subscribers(f'{ns}/lc_image') == 0

        # Missing weights: a failed transition, not a crash; still unconfigured.
        assert lifecycle.transition('configure') is False
        assert proc.proc.poll() is None, proc.output()
        assert lifecycle.state() == 'unconfigured'
        assert 'configure failed' in proc.output() and 'missing.pth' in proc.output()

        _set_string_params(node, executor, f'{ns}/lc_detector', backend='hog', weights='')
        assert lifecycle.transition('configure') is True, proc.output()
        assert lifecycle.state() == 'inactive'
        # Inactive: publishers exist, the camera is not subscribed.
        assert spin_until(executor, lambda: node.count_publishers(f'{ns}/lc_dets') == 1, REPLY_S)
        assert node.count_subscribers(f'{ns}/lc_image') == 0

        assert lifecycle.transition('activate') is True
        assert lifecycle.state() == 'active'
        assert spin_until(executor, lambda: images.get_subscription_count() > 0, REPLY_S)
        _send_until(executor, send, lambda: bool(received), 1)  # best-effort input: re-sent until answered
        assert received[-1].header.frame_id == 'cam', proc.output()

        assert lifecycle.transition('deactivate') is True
        assert lifecycle.state() == 'inactive'
        assert spin_until(executor, lambda: images.get_subscription_count() == 0, REPLY_S)
        for extra in range(3):
            send(100 + extra)
        assert _watch(executor, received, QUIET_S, from_sec=100) == 0

        assert lifecycle.transition('cleanup') is True
        assert lifecycle.state() == 'unconfigured'
        assert spin_until(executor, lambda: node.count_publishers(f'{ns}/lc_dets') == 0, REPLY_S)
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
    ns = node.get_namespace()
    managed = NodeProcess('tracker_node', ['-r', '__node:=lc_tracker', '-r', f'__ns:={ns}',
                                           '-p', 'autostart:=false', '-p', 'embedder:=none',
                                           '-p', 'publish_annotated:=false',
                                           '-p', 'n_init:=1', '-p', 'qos:=reliable',
                                           '-r', 'detections:=lc_tdets', '-r', 'tracks:=lc_tracks'])
    auto = NodeProcess('tracker_node', ['-r', '__node:=lc_auto', '-r', f'__ns:={ns}',
                                        '-p', 'embedder:=none', '-r', 'detections:=lc_auto_dets'])
    tracks = []
    node.create_subscription(TrackedObjectArray, 'lc_tracks', tracks.append, OUTPUT_QOS)
    dets = node.create_publisher(Detection2DArray, 'lc_tdets', OUTPUT_QOS)
    lifecycle = LifecycleClient(node, executor, f'{ns}/lc_tracker')

    def stamps_from(first):
        return [t.header.stamp.sec for t in tracks if t.header.stamp.sec >= first]
    try:
        assert lifecycle.wait_for_services(START_S), managed.output()
        assert lifecycle.state() == 'unconfigured'
        assert lifecycle.transition('configure') is True, managed.output()
        assert lifecycle.transition('activate') is True, managed.output()
        assert spin_until(executor, lambda: dets.get_subscription_count() > 0, REPLY_S)
        assert spin_until(executor, lambda: node.count_publishers(f'{ns}/lc_tracks') == 1, REPLY_S)
        # Matched both ways once a first frame is tracked; then every frame sent is tracked.
        first = _send_until(executor, lambda sec: dets.publish(_detections(sec)),
                            lambda: bool(tracks), 1) + 1
        for sec in range(first, first + 3):
            dets.publish(_detections(sec))
            assert spin_until(executor, lambda: sec in stamps_from(first), REPLY_S), managed.output()
        assert stamps_from(first) == [first, first + 1, first + 2]
        assert tracks[-1].objects and tracks[-1].objects[0].track_id == tracks[0].objects[0].track_id

        assert lifecycle.transition('deactivate') is True
        assert spin_until(executor, lambda: dets.get_subscription_count() == 0, REPLY_S)
        dets.publish(_detections(first + 3))
        assert _watch(executor, tracks, QUIET_S, from_sec=first + 3) == 0
        # Reactivated: the tracks (and their ids) survived deactivation. Its detections
        # subscription is new: re-sent until tracked.
        assert lifecycle.transition('activate') is True
        assert spin_until(executor, lambda: dets.get_subscription_count() > 0, REPLY_S)
        _send_until(executor, lambda sec: dets.publish(_detections(sec)),
                    lambda: bool(stamps_from(first + 4)), first + 4)
        assert first + 3 not in stamps_from(first), 'sent while inactive: never tracked'
        assert tracks[-1].objects[0].track_id == tracks[0].objects[0].track_id

        auto_lifecycle = LifecycleClient(node, executor, f'{ns}/lc_auto')
        assert auto_lifecycle.wait_for_services(START_S), auto.output()
        assert spin_until(executor, lambda: node.count_subscribers(f'{ns}/lc_auto_dets') == 1,
                          REPLY_S)
        assert auto_lifecycle.state() == 'active'
        assert managed.stop(signal.SIGINT) == 0, managed.output()
        assert auto.stop(signal.SIGINT) == 0, auto.output()
    finally:
        managed.close()
        auto.close()
