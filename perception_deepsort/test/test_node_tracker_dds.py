"""tracker_node as a real process over DDS: every image gets tracks, late detections are fused,
persistent ids, input stamps, bad input skipped.

Each step waits for what it causes and is re-sent until seen (a message published before the
DDS match, or lost, must not fail a test): an image for its ``tracks``, detections for their
``tracks/fused``. Every test starts its own node (a few seconds) in its own namespace, so each
runs alone and in any order and one failure does not cascade.
"""
import math
import re
import signal
import uuid

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
                                             resend_until, spin_until, stamp, wait_for_peers)

DISCOVERY_S = 90.0  # node start-up imports torch: slow on a busy 2-core machine
REPLY_S = 20.0      # a message's outputs must come within this (re-sent meanwhile)
RESEND_S = 3.0      # well above the node's reply time (sync_timeout_s 0.3 + ms of tracking)
COUNTERS_S = 5.0    # the counters line comes every 0.5 s
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
    """Test-side node: publishes images, detections and masks; collects every output by stamp."""

    def __init__(self, namespace: str):
        self.context, self.node, self.executor = make_test_node('tracker_test_peer')
        topic = f'{namespace}/'.__add__
        self.pub_det = self.node.create_publisher(Detection2DArray, topic('detections'), OUTPUT_QOS)
        self.pub_masks = self.node.create_publisher(InstanceMaskArray, topic('detections/masks'),
                                                    OUTPUT_QOS)
        self.pub_image = self.node.create_publisher(Image, topic('image'), OUTPUT_QOS)
        # stamp sec -> [messages]
        self.tracks, self.fused, self.track_dets, self.images = {}, {}, {}, {}
        self.sent = {}  # stamp sec -> how many times its detections were published
        outputs = ((TrackedObjectArray, 'tracks', self.tracks),
                   (TrackedObjectArray, 'tracks/fused', self.fused),
                   (Detection2DArray, 'tracks/detections', self.track_dets),
                   (Image, 'tracks/image', self.images))
        subs = [self.node.create_subscription(msg_type, topic(name), self._store(table), 50)
                for msg_type, name, table in outputs]
        self.endpoints = [self.pub_det, self.pub_masks, self.pub_image, *subs]

    @staticmethod
    def _store(table):
        return lambda msg: table.setdefault(msg.header.stamp.sec, []).append(msg)

    def image(self, sec: int, image) -> TrackedObjectArray:
        """Publish camera image ``sec`` (array or Image) until its tracks come; returns them."""
        header = Header(stamp=stamp(sec), frame_id=f'cam{sec}')
        msg = image if isinstance(image, Image) else array_to_image(image, 'rgb8', header)
        assert resend_until(self.executor, lambda: self.pub_image.publish(msg),
                            lambda: sec in self.tracks, REPLY_S, RESEND_S), f'no tracks for {sec}'
        return self.tracks[sec][0]

    def send(self, sec: int, dets: Detections, masks=True, masks_stamp=None):
        """Publish the detections of frame ``sec`` (masks first: the node pairs any order)."""
        header = Header(stamp=stamp(sec), frame_id=f'cam{sec}')
        det_msg, mask_msg = detections_to_msgs(dets, header, W, H)
        if masks:
            if masks_stamp is not None:
                mask_msg.header = Header(stamp=stamp(masks_stamp), frame_id=header.frame_id)
            self.pub_masks.publish(mask_msg)
        self.pub_det.publish(det_msg)
        self.sent[sec] = self.sent.get(sec, 0) + 1

    def fuse(self, sec: int, dets: Detections, **kwargs) -> TrackedObjectArray:
        """Publish the detections of frame ``sec`` until its fused tracks come (a second copy
        that does arrive is skipped as a repeated stamp); returns them."""
        assert resend_until(self.executor, lambda: self.send(sec, dets, **kwargs),
                            lambda: sec in self.fused, REPLY_S, RESEND_S), f'no fusion of {sec}'
        return self.fused[sec][0]

    def track(self, sec: int, dets: Detections, image) -> TrackedObjectArray:
        """Image ``sec`` then its detections (as from a detector one frame late): the fused
        tracks of ``sec``."""
        self.image(sec, image)
        return self.fuse(sec, dets)

    def wait(self, predicate, timeout=REPLY_S) -> bool:
        return spin_until(self.executor, predicate, timeout)

    def close(self):
        close_test_node(self.context, self.node, self.executor)


def counters(proc: NodeProcess) -> dict:
    """The node's newest counters line (``frames=.. images_rejected=.. ...``) as a dict."""
    lines = [line for line in proc.output().splitlines() if re.search(r'\bframes=\d+', line)]
    return {k: int(v) for k, v in re.findall(r'(\w+)=(\d+)', lines[-1])} if lines else {}


def wait_counters(peer: Peer, proc: NodeProcess, check) -> dict:
    """Spin until the counters line satisfies ``check``; returns it (asserting with the log)."""
    assert peer.wait(lambda: check(counters(proc)), COUNTERS_S), (counters(proc), proc.output())
    return counters(proc)


@pytest.fixture
def tracker():
    """A fresh tracker_node in a namespace of its own, and a peer wired to it."""
    namespace = f'/t{uuid.uuid4().hex[:8]}'
    proc = NodeProcess('tracker_node', ['-p', 'embedder:=histogram', '-p', 'n_init:=2',
                                        '-p', 'qos:=reliable', '-p', 'sync_timeout_s:=0.3',
                                        '-p', 'diagnostics_period_s:=0.5',
                                        '-p', 'use_sim_time:=true',
                                        '-r', '__node:=tracker_under_test',
                                        '-r', f'__ns:={namespace}'])
    peer = Peer(namespace)
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


def run_frames(peer: Peer, first: int, count: int, start_sec: int = 10) -> int:
    """Scene frames first.. first+count-1 at stamps start_sec+i, each image then its
    detections; returns the car's id."""
    for i in range(first, first + count):
        dets, image = scene(i)
        msg = peer.track(start_sec + i, dets, image)
    return car_of(msg).track_id


def test_every_image_gets_tracks_and_late_detections_keep_the_ids(tracker):
    proc, peer = tracker
    for i in range(8):
        dets, image = scene(i)
        assert peer.image(10 + i, image).header.frame_id == f'cam{10 + i}'
        assert peer.fuse(10 + i, dets).header.frame_id == f'cam{10 + i}'
    ids = {car_of(peer.fused[sec][0]).track_id for sec in range(11, 18)}
    assert len(ids) == 1, f'the car keeps one id: {ids}'
    car = car_of(peer.fused[17][0])
    assert car.has_mask and car.mask.width > 0 and car.velocity_x > 0 and car.hits == 8
    assert not car.predicted and car.time_since_update == 0.0
    # The next image, before its detections: the car followed to it, marked predicted.
    following = car_of(peer.image(18, scene(8)[1]))
    assert following.track_id == car.track_id and following.predicted and following.has_mask
    assert following.bbox.center.position.x > car.bbox.center.position.x
    assert peer.wait(lambda: 18 in peer.track_dets and 18 in peer.images)
    assert str(car.track_id) in [d.id for d in peer.track_dets[18][0].detections]
    annotated = peer.images[18][0]
    assert annotated.header.frame_id == 'cam18' and (annotated.width, annotated.height) == (W, H)
    seen = wait_counters(peer, proc, lambda c: c.get('frames') == 9)
    assert seen['fused_late'] == 8 and seen['frames_predicted'] == 9, seen


def test_detections_whose_image_never_comes_are_tracked_on_motion(tracker):
    proc, peer = tracker
    car_id = run_frames(peer, 0, 3)
    dets, _ = scene(3)
    # Newer than every image: they wait sync_timeout_s for it, then are a frame of their own.
    assert car_of(peer.fuse(13, dets)).track_id == car_id
    assert 13 in peer.tracks, 'a frame of its own: its tracks go out too'
    seen = wait_counters(peer, proc, lambda c: c.get('frames_without_image', 0) >= 1)
    assert seen['frames_without_image'] == 1, seen


def test_bad_boxes_empty_arrays_and_mismatched_masks_are_skipped(tracker):
    proc, peer = tracker
    car_id = run_frames(peer, 0, 3)
    bad = ([math.nan, 1, 5, 5], [30, 30, 20, 40], [500, 500, 600, 600], [-50, -50, -10, -10])
    dets, image = scene(3, extra=bad)
    msg = peer.track(13, dets, image)
    assert car_of(msg).track_id == car_id
    assert len(msg.objects) == 2, 'no track from a bad box'
    empty = Detections.empty(NAMES, with_masks=True)
    assert peer.track(14, empty, scene(4)[1]).header.frame_id == 'cam14'
    dets, image = scene(5)
    peer.image(15, image)
    assert car_of(peer.fuse(15, dets, masks_stamp=5)).track_id == car_id  # never paired
    dets, image = scene(6)
    header = Header(stamp=stamp(16), frame_id='cam16')
    _, two_masks = detections_to_msgs(dets, header, W, H)
    peer.image(16, image)
    peer.pub_masks.publish(two_masks)  # 2 masks for 1 detection
    assert car_of(peer.fuse(16, dets.select([0]), masks=False)).track_id == car_id
    expected = {'rejected_nonfinite': 1, 'rejected_size': 1, 'rejected_outside': 2}
    seen = wait_counters(peer, proc, lambda c: all(c.get(k) == v for k, v in expected.items())
                         and c.get('missing_masks', 0) >= 1 and c.get('masks_mismatched', 0) >= 1)
    log = proc.output()
    assert 'skipped 4 detections' in log and 'ignoring masks: 2 masks for 1 detections' in log
    assert seen['frames_detected'] == 7 and proc.proc.poll() is None


def test_repeated_stamps_are_skipped_and_counted(tracker):
    proc, peer = tracker
    car_id = run_frames(peer, 0, 3)  # stamps 10..12
    # Stamp 12 again with the car far away: fused, it would move the car or start a track.
    moved, image = scene(20)
    peer.send(12, moved)
    peer.pub_image.publish(array_to_image(image, 'rgb8', Header(stamp=stamp(12))))
    seen = wait_counters(peer, proc, lambda c: c.get('duplicate_detections', 0) >= 1
                         and c.get('duplicate_images', 0) >= 1)
    assert seen['frames'] == 3 and seen['frames_detected'] == 3, seen
    assert 'skipping a message with a repeated stamp' in proc.output()
    assert len(peer.tracks[12]) == 1 and len(peer.fused[12]) == 1, 'nothing more for stamp 12'
    dets, image = scene(3)
    car = car_of(peer.track(13, dets, image))
    # Updated by frames 10..13 only: the repeated frame left the tracker as it was.
    assert car.track_id == car_id and car.hits == 4
    assert 'resetting the tracker' not in proc.output()


def test_malformed_image_is_tracked_on_its_stamp_and_tracking_goes_on(tracker):
    proc, peer = tracker
    car_id = run_frames(peer, 0, 3)
    assert peer.wait(lambda: 12 in peer.images), 'annotated images come while subscribed'
    dets, _ = scene(3)
    header = Header(stamp=stamp(13), frame_id='cam13')
    truncated = Image(header=header, height=H, width=W, encoding='rgb8', step=W * 3,
                      data=bytes(W * 3 * (H - 1)))  # one row short
    assert car_of(peer.image(13, truncated)).track_id == car_id
    assert car_of(peer.fuse(13, dets)).track_id == car_id
    seen = wait_counters(peer, proc, lambda c: c.get('images_rejected', 0) >= 1)
    assert seen['images_rejected'] >= 1, seen
    assert 'malformed image' in proc.output()
    dets, image = scene(4)
    assert car_of(peer.track(14, dets, image)).track_id == car_id
    # Still drawing: the next good image is annotated; nothing was drawn from the bad one.
    assert peer.wait(lambda: 14 in peer.images) and 13 not in peer.images
    assert proc.proc.poll() is None


def test_stamp_going_backwards_resets_the_tracker(tracker):
    proc, peer = tracker
    run_frames(peer, 0, 3)
    old_ids = {o.track_id for msgs in peer.fused.values() for o in msgs[0].objects}
    run_frames(peer, 0, 3, start_sec=1)  # stamps 1..3: the bag looped
    assert 'resetting the tracker' in proc.output()
    new_ids = {o.track_id for sec in (1, 2, 3) for o in peer.fused[sec][0].objects}
    assert min(new_ids) > max(old_ids), 'new tracks after the reset, ids never reused'
    assert car_of(peer.fused[3][0]).track_id == car_of(peer.fused[2][0]).track_id


def test_ctrl_c_stops_cleanly(tracker):
    proc, peer = tracker
    run_frames(peer, 0, 2)  # stopped while working, not straight after start-up
    assert proc.stop(signal.SIGINT) == 0, proc.output()
    assert 'Traceback' not in proc.output()


def test_missing_embedder_weights_exit_1_naming_the_file(tmp_path):
    missing = tmp_path / 'reid.pt'
    proc = NodeProcess('tracker_node', ['-p', 'embedder:=cnn',
                                        '-p', f'embedder_weights:={missing}'])
    try:
        assert proc.wait(120) == 1, proc.output()  # README: one line naming the file, exit 1
        assert str(missing) in proc.output() and 'Traceback' not in proc.output()
    finally:
        proc.close()
