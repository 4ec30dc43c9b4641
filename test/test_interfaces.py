"""The interface packages build, import, and carry messages between processes over DDS."""
import os
import subprocess
import sys
import textwrap
import time

import rclpy
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy

import perception_msgs.msg as pm
import vision_msgs.msg as vm

# A separate process publishes a fully populated TrackedObjectArray until told to stop.
PUBLISHER = textwrap.dedent('''
    import sys, rclpy
    from rclpy.node import Node
    from perception_msgs.msg import TrackedObjectArray, TrackedObject, InstanceMask
    rclpy.init()
    node = Node('roundtrip_publisher')
    pub = node.create_publisher(TrackedObjectArray, 'roundtrip_tracks', 10)
    msg = TrackedObjectArray()
    msg.header.frame_id = 'camera'
    msg.header.stamp.sec, msg.header.stamp.nanosec = 1700000000, 123456789
    obj = TrackedObject(track_id=2**40 + 7, class_id='car', score=0.875,
                        velocity_x=-12.5, velocity_y=3.25, state=TrackedObject.STATE_CONFIRMED,
                        age=42, hits=40, time_since_update=0.0, has_mask=True)
    obj.bbox.center.position.x, obj.bbox.center.position.y = 320.5, 240.25
    obj.bbox.size_x, obj.bbox.size_y = 64.0, 48.0
    obj.mask = InstanceMask(x_offset=288, y_offset=216, width=3, height=2, data=[0, 255, 255, 0, 0, 255])
    msg.objects = [obj]
    print('ready', flush=True)
    while rclpy.ok() and sys.stdin.readline().strip() == 'pub':
        pub.publish(msg)
    node.destroy_node()
    rclpy.try_shutdown()
''')


def test_interface_types_import_with_vision_msgs_layout():
    det = vm.Detection2D()
    det.results.append(vm.ObjectHypothesisWithPose())
    det.results[0].hypothesis.class_id = 'person'
    assert det.results[0].pose.pose.position.x == 0.0
    assert det.bbox.center.position.x == 0.0 and det.bbox.center.theta == 0.0
    assert {'header', 'detections'} <= set(vm.Detection2DArray.get_fields_and_field_types())
    fields = pm.TrackedObject.get_fields_and_field_types()
    assert fields['bbox'] == 'vision_msgs/BoundingBox2D'
    assert fields['track_id'] == 'uint64' and fields['mask'] == 'perception_msgs/InstanceMask'
    assert fields['predicted'] == 'boolean'
    assert pm.InstanceMaskArray.get_fields_and_field_types()['header'] == 'std_msgs/Header'
    assert [pm.TrackedObject.STATE_TENTATIVE, pm.TrackedObject.STATE_CONFIRMED,
            pm.TrackedObject.STATE_LOST] == [0, 1, 2]


def test_tracked_objects_round_trip_between_processes():
    proc = subprocess.Popen([sys.executable, '-c', PUBLISHER], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ.copy())
    rclpy.init()
    node = Node('roundtrip_subscriber')
    received = []
    node.create_subscription(pm.TrackedObjectArray, 'roundtrip_tracks', received.append,
                             QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
    try:
        assert proc.stdout.readline().strip() == 'ready', proc.stderr.read()
        deadline = time.monotonic() + 30
        while not received and time.monotonic() < deadline:
            if node.count_publishers('roundtrip_tracks'):
                proc.stdin.write('pub\n')
                proc.stdin.flush()
            rclpy.spin_once(node, timeout_sec=0.2)
        assert received, 'no message arrived from the publisher process within 30 s'
        msg = received[0]
        assert msg.header.frame_id == 'camera'
        assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == (1700000000, 123456789)
        obj = msg.objects[0]
        assert obj.track_id == 2**40 + 7 and obj.class_id == 'car' and obj.score == 0.875
        assert (obj.velocity_x, obj.velocity_y) == (-12.5, 3.25)
        assert obj.state == pm.TrackedObject.STATE_CONFIRMED and (obj.age, obj.hits) == (42, 40)
        assert (obj.bbox.center.position.x, obj.bbox.size_y) == (320.5, 48.0)
        assert obj.has_mask and (obj.mask.x_offset, obj.mask.width, obj.mask.height) == (288, 3, 2)
        assert list(obj.mask.data) == [0, 255, 255, 0, 0, 255]
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        node.destroy_node()
        rclpy.try_shutdown()


def test_sourced_install_setup_gives_ros_and_interfaces():
    """The README's promise: a clean shell plus `source install/setup.bash` imports everything."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    clean_env = {'HOME': os.environ.get('HOME', '/root'), 'PATH': '/usr/bin:/bin'}
    command = 'import rclpy, perception_msgs.msg, vision_msgs.msg'
    result = subprocess.run(['bash', '-c', f'source install/setup.bash && python -c "{command}"'],
                            cwd=root, env=clean_env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
