"""detector_node as a real process over DDS: outputs keep the input header, bad frames skipped.

Each test starts its own node in a namespace of its own (no state, no message and no leftover
node shared between tests); a frame is re-sent until it is answered, and what must be sent
exactly once goes out after an answered frame has proven the node's reader matched ours."""
import re
import signal
from pathlib import Path

import cv2
import numpy as np
import pytest
import ultralytics
from perception_msgs.msg import InstanceMaskArray
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header
from vision_msgs.msg import Detection2DArray

from perception_ros_glue.image_conversion import array_to_image
from perception_ros_glue.node_params import OUTPUT_QOS
from perception_ros_glue.ros_testing import (NodeProcess, close_test_node, make_test_node,
                                             spin_until, stamp, unique_namespace, wait_for_peers)

DISCOVERY_S = 90.0  # node start-up imports torch: slow on a busy 2-core machine
REPLY_S = 30.0
# A street photo with standing people that ultralytics ships: the HOG people detector finds one.
BUS_JPG = Path(ultralytics.__file__).parent / 'assets' / 'bus.jpg'


def bus_rgb() -> np.ndarray:
    """bus.jpg at half size (HOG finds a person there), RGB."""
    bgr = cv2.imread(str(BUS_JPG))
    assert bgr is not None, f'cannot read {BUS_JPG}'
    return cv2.cvtColor(cv2.resize(bgr, None, fx=0.5, fy=0.5), cv2.COLOR_BGR2RGB)


def latest_counter(log: str, name: str) -> int:
    """Value of ``name`` in the node's most recent counters line (0 before the first one)."""
    values = re.findall(rf'\b{name}=(\d+)', log)
    return int(values[-1]) if values else 0


class Peer:
    """Test-side node: publishes images, collects the detector's outputs by stamp."""

    def __init__(self, name, image_type=Image, image_topic='image', namespace=''):
        self.context, self.node, self.executor = make_test_node(name, namespace)
        self.pub = self.node.create_publisher(image_type, image_topic, OUTPUT_QOS)
        self.detections, self.masks, self.images = {}, {}, {}
        subs = [self.node.create_subscription(msg_type, topic, self._store(table), 10)
                for msg_type, topic, table in ((Detection2DArray, 'detections', self.detections),
                                               (InstanceMaskArray, 'detections/masks', self.masks),
                                               (Image, 'detections/image', self.images))]
        self.endpoints = [self.pub] + subs[:2]

    @staticmethod
    def _store(table):
        return lambda msg: table.__setitem__((msg.header.stamp.sec, msg.header.stamp.nanosec), msg)

    def send_until_answered(self, make_msg, sec, timeout=REPLY_S, image=False):
        """Publish (re-sending: input QoS may be best effort, and a writer that sees a reader may
        not be matched by it yet) until detections and masks for ``sec`` arrive (and the
        annotated image with ``image``)."""
        key = (sec, 7)
        msg = make_msg()
        msg.header = Header(stamp=stamp(sec, 7), frame_id=f'cam{sec}')
        tables = (self.detections, self.masks) + ((self.images,) if image else ())
        for _ in range(int(timeout)):
            self.pub.publish(msg)
            if spin_until(self.executor, lambda: all(key in t for t in tables), 1.0):
                return self.detections[key], self.masks[key]
        raise AssertionError(f'no detections for stamp {sec} within {timeout} s')

    def close(self):
        close_test_node(self.context, self.node, self.executor)


@pytest.fixture
def hog_node():
    """(process, peer) of a HOG detector_node of this test alone, its peer matched both ways."""
    namespace = unique_namespace('det')
    with NodeProcess('detector_node', ['-r', f'__ns:={namespace}', '-p', 'backend:=hog',
                                       '-p', 'publish_annotated:=true', '-p', 'score_threshold:=0.3',
                                       '-p', 'qos:=reliable', '-p', 'diagnostics_period_s:=1.0']) as proc:
        peer = Peer('detector_test_peer', namespace=namespace)
        try:
            assert wait_for_peers(peer.executor, peer.endpoints, DISCOVERY_S), proc.output()
            yield proc, peer
        finally:
            peer.close()


def test_detections_masks_and_annotated_image_keep_the_input_header(hog_node):
    proc, peer = hog_node
    image = bus_rgb()
    det, masks = peer.send_until_answered(lambda: array_to_image(image, 'rgb8'), 11, image=True)
    assert det.header.frame_id == masks.header.frame_id == 'cam11'
    assert len(det.detections) >= 1, 'HOG finds the person in bus.jpg'
    assert len(masks.masks) == len(det.detections)
    assert (masks.image_width, masks.image_height) == (image.shape[1], image.shape[0])
    hypothesis = det.detections[0].results[0].hypothesis
    assert hypothesis.class_id == 'person' and 0.3 <= hypothesis.score
    assert det.detections[0].header.stamp == det.header.stamp
    bbox = det.detections[0].bbox
    assert 0 < bbox.center.position.x < image.shape[1] and bbox.size_y > bbox.size_x > 0
    annotated = peer.images[(11, 7)]
    assert (annotated.width, annotated.height) == (image.shape[1], image.shape[0])
    assert annotated.encoding == 'rgb8'
    assert bytes(annotated.data) != image.tobytes(), 'boxes and labels are drawn'


def test_bgr_and_mono_inputs_are_converted(hog_node):
    proc, peer = hog_node
    image = bus_rgb()
    bgr = image[..., ::-1].copy()
    det_bgr, _ = peer.send_until_answered(lambda: array_to_image(bgr, 'bgr8'), 12, image=True)
    assert len(det_bgr.detections) >= 1
    # The annotated image is RGB: away from the drawn boxes it is the input's pixels, which a
    # red/blue swap anywhere on the way would change.
    annotated = peer.images[(12, 7)]
    assert annotated.encoding == 'rgb8'
    pixels = np.frombuffer(bytes(annotated.data), np.uint8).reshape(image.shape)
    same = np.all(pixels == image, axis=2).mean()
    swapped = np.all(pixels == image[..., ::-1], axis=2).mean()
    assert same > 0.5 and same > 5 * swapped, (same, swapped)
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    det_mono, _ = peer.send_until_answered(lambda: array_to_image(gray, 'mono8'), 13)
    assert det_mono.header.frame_id == 'cam13'


def _malformed():
    """(reason, message) pairs the node must reject without dying."""
    good = array_to_image(np.zeros((8, 8, 3), np.uint8), 'rgb8')
    wrong_step = array_to_image(np.zeros((8, 8, 3), np.uint8), 'rgb8')
    wrong_step.step = 10
    unknown = array_to_image(np.zeros((8, 8, 3), np.uint8), 'rgb8')
    unknown.encoding = 'yuv422_weird'
    empty = Image(encoding='rgb8')
    truncated = array_to_image(np.zeros((8, 8, 3), np.uint8), 'rgb8')
    truncated.data = good.data[:50]
    return [('step', wrong_step), ('encoding', unknown), ('empty', empty), ('bytes', truncated)]


def test_malformed_images_are_skipped_and_the_node_keeps_answering(hog_node):
    proc, peer = hog_node
    # An answer proves the node's reader matched ours: from here on, reliable means delivered.
    peer.send_until_answered(lambda: array_to_image(bus_rgb(), 'rgb8'), 29)
    rejected_before = latest_counter(proc.output(), 'rejected')
    for i, (_, bad) in enumerate(_malformed()):
        bad.header = Header(stamp=stamp(100 + i), frame_id='bad')
        peer.pub.publish(bad)  # once: each one must be counted
        # The node counts it (counters logged every second) before a good frame could replace it.
        assert spin_until(peer.executor, lambda: latest_counter(proc.output(), 'rejected')
                          >= rejected_before + i + 1, 10.0), proc.output()
        det, _ = peer.send_until_answered(lambda: array_to_image(bus_rgb(), 'rgb8'), 30 + i)
        assert det.header.frame_id == f'cam{30 + i}'
    assert not any(key[0] >= 100 for key in peer.detections), 'no output for malformed frames'
    # Warnings are throttled (one per 5 s); the counter sees every rejected frame.
    assert latest_counter(proc.output(), 'rejected') == rejected_before + 4, proc.output()
    assert 'skipping malformed image' in proc.output()
    assert proc.proc.poll() is None


def test_when_inference_is_slower_than_the_camera_stale_frames_are_dropped(hog_node):
    proc, peer = hog_node
    peer.send_until_answered(lambda: array_to_image(bus_rgb(), 'rgb8'), 199)  # matched both ways
    frame = cv2.resize(bus_rgb(), (960, 720))  # HOG needs ~0.1-0.5 s here: slower than the burst
    for sec in range(200, 215):
        peer.pub.publish(array_to_image(frame, 'rgb8', Header(stamp=stamp(sec), frame_id='burst')))
    newest = (214, 0)
    assert spin_until(peer.executor, lambda: newest in peer.detections, REPLY_S), proc.output()
    answered = [key for key in peer.detections if 200 <= key[0] < 215]
    assert len(answered) < 15, 'frames that went stale were skipped, not queued'
    assert spin_until(peer.executor, lambda: latest_counter(proc.output(), 'dropped_stale') > 0,
                      5.0), proc.output()


def test_compressed_input_with_one_inference_thread():
    namespace = unique_namespace('det')
    proc = NodeProcess('detector_node', ['-r', f'__ns:={namespace}', '-p', 'backend:=hog',
                                         '-p', 'input:=compressed', '-p', 'inference_threads:=1',
                                         '-r', f'image/compressed:={namespace}/cam/jpeg'])
    peer = Peer('detector_compressed_peer', CompressedImage, 'cam/jpeg', namespace)
    try:
        assert wait_for_peers(peer.executor, peer.endpoints, DISCOVERY_S), proc.output()
        ok, jpeg = cv2.imencode('.jpg', cv2.cvtColor(bus_rgb(), cv2.COLOR_RGB2BGR))
        assert ok
        det, masks = peer.send_until_answered(
            lambda: CompressedImage(format='jpeg', data=jpeg.tobytes()), 21)
        assert len(det.detections) >= 1 and masks.image_width == bus_rgb().shape[1]
        assert '1 inference thread(s)' in proc.output()
        junk = CompressedImage(header=Header(stamp=stamp(22)), format='jpeg', data=b'junk')
        for _ in range(int(REPLY_S)):  # best-effort input (the default): re-sent until seen
            peer.pub.publish(junk)
            if spin_until(peer.executor, lambda: 'could not decode' in proc.output(), 1.0):
                break
        assert 'could not decode' in proc.output(), proc.output()
        assert proc.proc.poll() is None
        assert proc.stop(signal.SIGTERM) == 0, proc.output()
        assert 'Traceback' not in proc.output()
    finally:
        peer.close()
        proc.close()


def test_ctrl_c_stops_cleanly():
    # Its own namespace: the answer must come from this node, not another test's.
    namespace = unique_namespace('det')
    proc = NodeProcess('detector_node', ['-p', 'backend:=hog', '-r', f'__ns:={namespace}'])
    peer = Peer('detector_ctrl_c_peer', namespace=namespace)
    try:
        assert wait_for_peers(peer.executor, peer.endpoints, DISCOVERY_S), proc.output()
        peer.send_until_answered(lambda: array_to_image(bus_rgb(), 'rgb8'), 41)
        assert proc.stop(signal.SIGINT) == 0, proc.output()
        assert 'Traceback' not in proc.output()
    finally:
        peer.close()
        proc.close()


def test_missing_weights_exit_1_naming_the_file(tmp_path):
    missing = tmp_path / 'no_such_model.pth'
    proc = NodeProcess('detector_node', ['-p', 'backend:=maskrcnn', '-p', f'weights:={missing}'])
    try:
        assert proc.wait(120) == 1  # the README's promise: one line, exit code 1
        assert str(missing) in proc.output()
        assert 'Traceback' not in proc.output()
    finally:
        proc.close()


@pytest.mark.slow  # trains a Mask R-CNN first (the session's synthetic_maskrcnn)
def test_trained_checkpoint_serves_detections_and_masks(synthetic_maskrcnn):
    """A perception-train-maskrcnn checkpoint runs in the node: detections + masks over DDS."""
    from perception_maskrcnn.training.dataset import CocoInstances
    image = CocoInstances(synthetic_maskrcnn.data_root, synthetic_maskrcnn.val_ann).image(0)
    namespace = unique_namespace('det')
    proc = NodeProcess('detector_node', ['-r', f'__ns:={namespace}', '-p', 'backend:=maskrcnn',
                                         '-p', 'device:=cpu',
                                         '-p', f'weights:={synthetic_maskrcnn.checkpoint}',
                                         '-p', 'score_threshold:=0.3', '-p', 'qos:=reliable'])
    peer = Peer('detector_checkpoint_peer', namespace=namespace)
    try:
        assert wait_for_peers(peer.executor, peer.endpoints, DISCOVERY_S), proc.output()
        dets, masks = peer.send_until_answered(lambda: array_to_image(image, 'rgb8'), 3)
        assert dets.detections, proc.output()
        assert {d.results[0].hypothesis.class_id for d in dets.detections} <= {'car', 'person'}
        assert len(masks.masks) == len(dets.detections)
        assert all(m.width > 0 and max(m.data) == 255 for m in masks.masks)
        assert 'backend=maskrcnn' in proc.output()
    finally:
        peer.close()
        proc.close()
