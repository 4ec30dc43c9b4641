"""/diagnostics from the real nodes over DDS: levels follow the threshold parameters.

detector_node (HOG) runs with ``diag_error_no_input_s:=1`` and ``diag_warn_drop_ratio:=0.05``:
before any image it reports ERROR (no input); a burst of images faster than inference is OK (it
takes the newest frame by design) and shows the camera rate above the detection rate; malformed
images report WARN naming the reason; images at a pace it keeps up with give OK with a non-zero
input rate. tracker_node reports ERROR before any input, OK while detections come, and WARN when
images come without detections (tracks are predictions only).
"""
import time

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from std_msgs.msg import Header
from sensor_msgs.msg import Image
from vision_msgs.msg import BoundingBox2D, Detection2D, Detection2DArray, ObjectHypothesisWithPose

from perception_ros_glue.image_conversion import array_to_image
from perception_ros_glue.node_params import OUTPUT_QOS
from perception_ros_glue.ros_testing import (NodeProcess, close_test_node, make_test_node,
                                             spin_until, stamp)

START_S = 90.0  # process start-up imports torch: slow on a busy 2-core machine
LEVEL_S = 30.0


@pytest.fixture
def peer():
    context, node, executor = make_test_node('diagnostics_peer')
    statuses = []
    node.create_subscription(DiagnosticArray, '/diagnostics',
                             lambda m: statuses.extend(m.status), OUTPUT_QOS)
    yield node, executor, statuses
    close_test_node(context, node, executor)


def _values(status):
    return {kv.key: kv.value for kv in status.values}


def _wait_level(executor, statuses, name, level, timeout, during=None, accept=None):
    """Spin (calling ``during()`` each step) until ``name`` reports ``level`` (with ``accept``
    true of it); that status, None on timeout."""
    found = []

    def check():
        if during is not None:
            during()
        found.extend(s for s in statuses if s.name == name and s.level == level
                     and (accept is None or accept(s)))
        statuses.clear()
        return bool(found)
    spin_until(executor, check, timeout, step=0.1)
    return found[-1] if found else None


def test_detector_levels_follow_the_thresholds(peer):
    node, executor, statuses = peer
    proc = NodeProcess('detector_node', ['-r', '__node:=diag_detector', '-p', 'backend:=hog',
                                         '-p', 'diag_error_no_input_s:=1.0',
                                         '-p', 'diag_warn_drop_ratio:=0.05',
                                         '-r', 'image:=diag_image',
                                         '-r', 'detections:=diag_detections'])
    images = node.create_publisher(Image, 'diag_image', OUTPUT_QOS)
    frame = np.full((480, 640, 3), 120, np.uint8)
    sent = [0]

    def send():
        sent[0] += 1
        images.publish(array_to_image(frame, 'rgb8', Header(stamp=stamp(sent[0]))))
    try:
        error = _wait_level(executor, statuses, '/diag_detector', DiagnosticStatus.ERROR, START_S)
        assert error is not None, proc.output()
        assert 'no input' in error.message
        values = _values(error)
        assert values['lifecycle_state'] == 'active' and 'hog' in values['detector'].lower()
        assert {'rate_in_hz', 'rate_out_hz', 'latency_ms', 'dropped_stale', 'camera_rate_hz',
                'detection_rate_hz', 'detection_latency_ms'} <= set(values)
        assert values['detections_subscribers'] == '0'  # nobody listens to its detections yet
        node.create_subscription(Detection2DArray, 'diag_detections', lambda m: None, OUTPUT_QOS)

        assert spin_until(executor, lambda: images.get_subscription_count() > 0, LEVEL_S)

        def burst():
            for _ in range(20):
                send()

        def faster_than_inference(status):
            values = _values(status)
            return (int(values['dropped_stale']) > 0
                    and float(values['camera_rate_hz']) > float(values['detection_rate_hz']) > 0)
        ok = _wait_level(executor, statuses, '/diag_detector', DiagnosticStatus.OK, LEVEL_S,
                         during=burst, accept=faster_than_inference)
        assert ok is not None, proc.output()
        assert float(_values(ok)['detection_latency_ms']) > 0

        def malformed():
            bad = array_to_image(frame, 'rgb8', Header(stamp=stamp(sent[0])))
            bad.encoding = 'no_such_encoding'
            images.publish(bad)
        warn = _wait_level(executor, statuses, '/diag_detector', DiagnosticStatus.WARN, LEVEL_S,
                           during=malformed)
        assert warn is not None, proc.output()
        assert 'malformed' in warn.message

        last = [0.0]

        def paced():  # 2 Hz: HOG on 640x480 keeps up easily
            if time.monotonic() - last[0] > 0.5:
                last[0] = time.monotonic()
                send()
        ok = _wait_level(executor, statuses, '/diag_detector', DiagnosticStatus.OK, LEVEL_S,
                         during=paced, accept=lambda s: float(_values(s)['rate_out_hz']) > 0)
        assert ok is not None, proc.output()
        assert float(_values(ok)['rate_in_hz']) > 0
        assert _values(ok)['detections_subscribers'] == '1'  # the subscription made above
    finally:
        proc.close()


def _detections(sec):
    det = Detection2D(bbox=BoundingBox2D())
    det.bbox.center.position.x, det.bbox.center.position.y = 100.0, 80.0
    det.bbox.size_x, det.bbox.size_y = 40.0, 90.0
    hyp = ObjectHypothesisWithPose()
    hyp.hypothesis.class_id, hyp.hypothesis.score = 'person', 0.9
    det.results = [hyp]
    return Detection2DArray(header=Header(stamp=stamp(sec)), detections=[det])


def test_tracker_reports_no_input_then_ok_then_missing_detections(peer):
    node, executor, statuses = peer
    proc = NodeProcess('tracker_node', ['-r', '__node:=diag_tracker', '-p', 'embedder:=none',
                                        '-p', 'publish_annotated:=false', '-p', 'qos:=reliable',
                                        '-p', 'diag_error_no_input_s:=1.0',
                                        '-r', 'detections:=diag_dets', '-r', 'image:=diag_camera'])
    dets = node.create_publisher(Detection2DArray, 'diag_dets', OUTPUT_QOS)
    sec = [0]
    try:
        error = _wait_level(executor, statuses, '/diag_tracker', DiagnosticStatus.ERROR, START_S)
        assert error is not None and 'no input' in error.message, proc.output()
        assert spin_until(executor, lambda: dets.get_subscription_count() > 0, LEVEL_S)

        def feed():
            sec[0] += 1
            if sec[0] % 3 == 0:  # every third 0.1 s step: ~3 Hz
                dets.publish(_detections(sec[0]))
        ok = _wait_level(executor, statuses, '/diag_tracker', DiagnosticStatus.OK, LEVEL_S,
                         during=feed, accept=lambda s: float(_values(s)['rate_out_hz']) > 0)
        assert ok is not None, proc.output()
        assert _values(ok)['detections_publishers'] == '1'  # dets, matched
        assert float(_values(ok)['detection_rate_hz']) > 0

        # A camera without detections (the detector died): WARN, the tracks are predictions.
        camera = node.create_publisher(Image, 'diag_camera', OUTPUT_QOS)
        frame = np.full((48, 64, 3), 90, np.uint8)

        def images():
            sec[0] += 1
            camera.publish(array_to_image(frame, 'rgb8', Header(stamp=stamp(sec[0]))))
        warn = _wait_level(executor, statuses, '/diag_tracker', DiagnosticStatus.WARN, LEVEL_S,
                           during=images)
        assert warn is not None, proc.output()
        assert 'no detections' in warn.message and float(_values(warn)['camera_rate_hz']) > 0
    finally:
        proc.close()
