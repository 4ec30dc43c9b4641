"""tracker_node behind a detector that is not ours, with perception_maskrcnn not installed.

The test side is a plain rclpy node publishing vision_msgs/Detection2DArray and sensor_msgs/Image
built field by field, as yolo_ros, Isaac ROS or a user's own detector would; it uses none of
our packages. The node process gets a Python path without perception_maskrcnn.
"""
import os
import subprocess
import sys

import numpy as np
import pytest
import rclpy
import rclpy.executors
from perception_msgs.msg import TrackedObject, TrackedObjectArray
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import Header
from vision_msgs.msg import (BoundingBox2D, Detection2D, Detection2DArray, ObjectHypothesis,
                             ObjectHypothesisWithPose)

from perception_ros_glue.ros_testing import NodeProcess, resend_until, wait_for_peers

DISCOVERY_S = 90.0  # node start-up on a busy 2-core machine
REPLY_S = 15.0
W, H = 160, 120
RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


def without_maskrcnn(environ) -> dict:
    """``environ`` with every perception_maskrcnn install path removed."""
    env = dict(environ)
    for key in ('PYTHONPATH', 'AMENT_PREFIX_PATH', 'CMAKE_PREFIX_PATH'):
        parts = env.get(key, '').split(os.pathsep)
        env[key] = os.pathsep.join(p for p in parts if p and 'perception_maskrcnn' not in p)
    return env


def foreign_detection(header, cx, cy, w, h, label) -> Detection2D:
    """A Detection2D as another detector fills it: centre/size box, one hypothesis."""
    det = Detection2D(header=header, id='')
    det.bbox = BoundingBox2D()
    det.bbox.center.position.x, det.bbox.center.position.y = float(cx), float(cy)
    det.bbox.size_x, det.bbox.size_y = float(w), float(h)
    det.results = [ObjectHypothesisWithPose(hypothesis=ObjectHypothesis(class_id=label, score=0.9))]
    return det


def foreign_image(header, x0) -> Image:
    """An rgb8 image with a red block at column ``x0`` (bytes written directly)."""
    pixels = np.full((H, W, 3), 50, np.uint8)
    pixels[40:80, x0:x0 + 30] = (220, 30, 30)
    return Image(header=header, height=H, width=W, encoding='rgb8', is_bigendian=0, step=W * 3,
                 data=pixels.tobytes())


@pytest.fixture(scope='module')
def env(tmp_path_factory):
    """The node's environment; proves perception_maskrcnn cannot be imported in it."""
    env = without_maskrcnn(os.environ)
    # Run away from the source tree, whose package folders would import as namespace packages.
    probe = subprocess.run([sys.executable, '-c', 'import perception_maskrcnn.detector_node'],
                           env=env, capture_output=True, text=True,
                           cwd=tmp_path_factory.mktemp('elsewhere'))
    assert probe.returncode != 0 and 'perception_maskrcnn' in probe.stderr, probe.stderr
    return env


def test_tracker_node_tracks_a_foreign_detector_without_perception_maskrcnn(env):
    proc = NodeProcess('tracker_node', ['-p', 'embedder:=histogram', '-p', 'n_init:=2',
                                        '-p', 'qos:=reliable', '-r', '__node:=foreign_tracker'],
                       env=env)
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node('foreign_detector', context=context)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    tracks, fused = {}, {}
    try:
        pub_det = node.create_publisher(Detection2DArray, 'detections', RELIABLE)
        pub_image = node.create_publisher(Image, 'image', RELIABLE)
        subs = [node.create_subscription(TrackedObjectArray, topic,
                                         lambda m, t=table: t.__setitem__(m.header.stamp.sec, m),
                                         10) for topic, table in (('tracks', tracks),
                                                                  ('tracks/fused', fused))]
        assert wait_for_peers(executor, [pub_det, pub_image, *subs], DISCOVERY_S), proc.output()
        for i in range(6):
            header = Header(frame_id='foreign_camera')
            header.stamp.sec = 100 + i
            x0 = 20 + 5 * i
            # The image first (its tracks go out at once), then its detections (fused): each
            # re-sent until its outputs come, a copy that does arrive being skipped.
            image = foreign_image(header, x0)
            assert resend_until(executor, lambda: pub_image.publish(image),
                                lambda: 100 + i in tracks, REPLY_S), proc.output()
            detections = Detection2DArray(header=header, detections=[
                foreign_detection(header, x0 + 15, 60, 30, 40, 'person')])
            assert resend_until(executor, lambda: pub_det.publish(detections),
                                lambda: 100 + i in fused, REPLY_S), proc.output()
        last = fused[105]
        assert last.header.frame_id == 'foreign_camera'
        [person] = last.objects
        assert (person.class_id, person.state) == ('person', TrackedObject.STATE_CONFIRMED)
        assert person.hits == 6 and abs(person.bbox.center.position.x - 60) < 3
        assert {o.track_id for m in fused.values() for o in m.objects} == {person.track_id}
        assert tracks[105].objects[0].predicted and tracks[105].header.frame_id == 'foreign_camera'
        assert 'Traceback' not in proc.output()
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown(context=context)
        proc.close()
