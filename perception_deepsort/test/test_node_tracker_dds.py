"""tracker_node as a real process over DDS: persistent ids, input stamps, bad input skipped."""
import math
import signal

import numpy as np
import pytest
from perception_msgs.msg import InstanceMaskArray, TrackedObject, TrackedObjectArray
from sensor_msgs.msg import Image
from std_msgs.msg import Header
from vision_msgs.msg import Detection2DArray

from perception_ros_glue.detections import Detections, crop_mask
from perception_ros_glue.image_conversion import array_to_image
from perception_ros_glue.node_params import OUTPUT_QOS
from perception_ros_glue.ros_conversions import detections_to_msgs
from perception_ros_glue.ros_testing import (NodeProcess, close_test_node, make_test_node,
                                             spin_until, stamp, wait_for_peers)

DISCOVERY_S = 90.0  # node start-up imports torch: slow on a busy 2-core machine
REPLY_S = 15.0
W, H = 160, 100
NAMES = ['car', 'person']


def scene(i: int, extra=()) -> tuple[Detections, np.ndarray]:
    """Frame i: a car moving right 4 px/frame (with mask), a person walking left, extra boxes."""
    boxes = [[10 + 4 * i, 30, 50 + 4 * i, 55], [120 - 2 * i, 20, 135 - 2 * i, 70], *extra]
    image = np.full((H, W, 3), 60, np.uint8)
    full = np.zeros((H, W), bool)
    full[32:53, 12 + 4 * i:48 + 4 * i] = True
    image[full] = (200, 40, 40)
    image[20:70, 120 - 2 * i:135 - 2 * i] = (40, 200, 40)
    window, origin = crop_mask(full, boxes[0])
    n = len(boxes)
    masks = [window] + [np.zeros((0, 0), bool)] * (n - 1)
    origins = [origin] + [(0, 0)] * (n - 1)
    return Detections(boxes, [0.9] * n, [0, 1] + [0] * (n - 2), NAMES, masks, origins), image


class Peer:
    """Test-side node: publishes detections/masks/images, collects tracks by stamp."""

    def __init__(self):
        self.context, self.node, self.executor = make_test_node('tracker_test_peer')
        self.pub_det = self.node.create_publisher(Detection2DArray, 'detections', OUTPUT_QOS)
        self.pub_masks = self.node.create_publisher(InstanceMaskArray, 'detections/masks',
                                                    OUTPUT_QOS)
        self.pub_image = self.node.create_publisher(Image, 'image', OUTPUT_QOS)
        self.tracks, self.track_dets, self.images = {}, {}, {}
        outputs = ((TrackedObjectArray, 'tracks', self.tracks),
                   (Detection2DArray, 'tracks/detections', self.track_dets),
                   (Image, 'tracks/image', self.images))
        subs = [self.node.create_subscription(msg_type, topic, self._store(table), 50)
                for msg_type, topic, table in outputs]
        self.endpoints = [self.pub_det, self.pub_masks, self.pub_image, *subs]

    @staticmethod
    def _store(table):
        return lambda msg: table.__setitem__(msg.header.stamp.sec, msg)

    def send(self, sec: int, dets: Detections, image=None, masks=True, masks_stamp=None):
        """Publish one frame (masks and image first: the matcher takes any order)."""
        header = Header(stamp=stamp(sec), frame_id=f'cam{sec}')
        det_msg, mask_msg = detections_to_msgs(dets, header, W, H)
        if masks:
            if masks_stamp is not None:
                mask_msg.header = Header(stamp=stamp(masks_stamp), frame_id=header.frame_id)
            self.pub_masks.publish(mask_msg)
        if image is not None:
            self.pub_image.publish(array_to_image(image, 'rgb8', header))
        self.pub_det.publish(det_msg)

    def wait_tracks(self, sec: int) -> TrackedObjectArray:
        assert spin_until(self.executor, lambda: sec in self.tracks, REPLY_S), sec
        return self.tracks[sec]

    def close(self):
        close_test_node(self.context, self.node, self.executor)


@pytest.fixture(scope='module')
def tracker():
    proc = NodeProcess('tracker_node', ['-p', 'embedder:=histogram', '-p', 'n_init:=2',
                                        '-p', 'qos:=reliable', '-p', 'sync_timeout_s:=0.3',
                                        '-p', 'diagnostics_period_s:=0.5',
                                        '-p', 'use_sim_time:=true',
                                        '-r', '__node:=tracker_under_test'])
    peer = Peer()
    try:
        assert wait_for_peers(peer.executor, peer.endpoints, DISCOVERY_S), proc.output()
        yield proc, peer
    finally:
        peer.close()
        proc.close()


def car_of(msg: TrackedObjectArray) -> TrackedObject:
    [car] = [o for o in msg.objects
             if o.class_id == 'car' and o.state == TrackedObject.STATE_CONFIRMED]
    return car


def test_ids_persist_and_outputs_keep_the_input_stamp(tracker):
    proc, peer = tracker
    for i in range(8):
        dets, image = scene(i)
        peer.send(10 + i, dets, image)
        msg = peer.wait_tracks(10 + i)
        assert msg.header.frame_id == f'cam{10 + i}'
    ids = {car_of(peer.tracks[sec]).track_id for sec in range(11, 18)}
    assert len(ids) == 1, f'the car keeps one id: {ids}'
    last = peer.tracks[17]
    car = car_of(last)
    assert car.has_mask and car.mask.width > 0 and car.velocity_x > 0 and car.hits == 8
    assert spin_until(peer.executor, lambda: 17 in peer.track_dets and 17 in peer.images, REPLY_S)
    assert str(car.track_id) in [d.id for d in peer.track_dets[17].detections]
    annotated = peer.images[17]
    assert annotated.header.frame_id == 'cam17' and (annotated.width, annotated.height) == (W, H)


def test_detections_whose_image_never_comes_are_tracked_on_motion(tracker):
    proc, peer = tracker
    before = car_of(peer.tracks[17]).track_id
    dets, _ = scene(8)
    peer.send(18, dets, image=None)
    assert car_of(peer.wait_tracks(18)).track_id == before
    assert spin_until(peer.executor, lambda: 'missing_image=1' in proc.output(), 5.0), proc.output()


def test_bad_boxes_empty_arrays_and_mismatched_masks_are_skipped(tracker):
    proc, peer = tracker
    car_id = car_of(peer.tracks[18]).track_id
    bad = ([math.nan, 1, 5, 5], [30, 30, 20, 40], [500, 500, 600, 600], [-50, -50, -10, -10])
    dets, image = scene(9, extra=bad)
    peer.send(19, dets, image)
    assert car_of(peer.wait_tracks(19)).track_id == car_id
    assert len(peer.tracks[19].objects) == 2, 'no track from a bad box'
    empty = Detections.empty(NAMES, with_masks=True)
    peer.send(20, empty, scene(10)[1])
    assert peer.wait_tracks(20).header.frame_id == 'cam20'
    dets, image = scene(11)
    peer.send(21, dets, image, masks_stamp=5)  # masks of an old stamp: never paired
    assert car_of(peer.wait_tracks(21)).track_id == car_id
    dets, image = scene(12)
    peer.send(22, dets.select([0]), image, masks=False)
    header = Header(stamp=stamp(22), frame_id='cam22')
    _, two_masks = detections_to_msgs(dets, header, W, H)
    peer.pub_masks.publish(two_masks)                        # 2 masks for 1 detection
    assert car_of(peer.wait_tracks(22)).track_id == car_id
    for text in ('rejected_nonfinite=1', 'rejected_size=1', 'rejected_outside=2',
                 'masks_mismatched=1', 'unused_masks=1'):  # counters, logged periodically
        assert spin_until(peer.executor, lambda: text in proc.output(), 5.0), (text, proc.output())
    log = proc.output()
    assert 'skipped 4 of 6 detections' in log and 'ignoring masks: 2 masks for 1 detections' in log
    assert proc.proc.poll() is None


def test_stamp_going_backwards_resets_the_tracker(tracker):
    proc, peer = tracker
    old_ids = {o.track_id for msg in peer.tracks.values() for o in msg.objects}
    peer.tracks.clear()
    for i in range(3):
        dets, image = scene(i)
        peer.send(1 + i, dets, image)
        peer.wait_tracks(1 + i)
    assert 'resetting the tracker' in proc.output()
    new_ids = {o.track_id for msg in peer.tracks.values() for o in msg.objects}
    assert min(new_ids) > max(old_ids), 'new tracks after the reset, ids never reused'
    assert car_of(peer.tracks[3]).track_id == car_of(peer.tracks[2]).track_id


def test_ctrl_c_stops_cleanly(tracker):
    """Runs last on the shared node."""
    proc, _ = tracker
    assert proc.stop(signal.SIGINT) == 0, proc.output()
    assert 'Traceback' not in proc.output()


def test_missing_embedder_weights_exit_nonzero_naming_the_file(tmp_path):
    missing = tmp_path / 'reid.pt'
    proc = NodeProcess('tracker_node', ['-p', 'embedder:=cnn',
                                        '-p', f'embedder_weights:={missing}'])
    try:
        assert proc.wait(120) != 0
        assert str(missing) in proc.output() and 'Traceback' not in proc.output()
    finally:
        proc.close()
