"""tracker_node as a real process over DDS: persistent ids, input stamps, bad input skipped.

Every test starts its own node (a few seconds) in its own namespace, so each runs alone and in
any order and one failure does not cascade.
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
                                             spin_until, stamp, wait_for_peers)

DISCOVERY_S = 90.0  # node start-up imports torch: slow on a busy 2-core machine
REPLY_S = 20.0      # a frame's tracks must come within this (re-sent meanwhile)
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
    """Test-side node: publishes detections/masks/images, collects every output by stamp."""

    def __init__(self, namespace: str):
        self.context, self.node, self.executor = make_test_node('tracker_test_peer')
        topic = f'{namespace}/'.__add__
        self.pub_det = self.node.create_publisher(Detection2DArray, topic('detections'), OUTPUT_QOS)
        self.pub_masks = self.node.create_publisher(InstanceMaskArray, topic('detections/masks'),
                                                    OUTPUT_QOS)
        self.pub_image = self.node.create_publisher(Image, topic('image'), OUTPUT_QOS)
        self.tracks, self.track_dets, self.images = {}, {}, {}  # stamp sec -> [messages]
        self.sent = {}  # stamp sec -> how many times its detections were published
        outputs = ((TrackedObjectArray, 'tracks', self.tracks),
                   (Detection2DArray, 'tracks/detections', self.track_dets),
                   (Image, 'tracks/image', self.images))
        subs = [self.node.create_subscription(msg_type, topic(name), self._store(table), 50)
                for msg_type, name, table in outputs]
        self.endpoints = [self.pub_det, self.pub_masks, self.pub_image, *subs]

    @staticmethod
    def _store(table):
        return lambda msg: table.setdefault(msg.header.stamp.sec, []).append(msg)

    def send(self, sec: int, dets: Detections, image=None, masks=True, masks_stamp=None):
        """Publish one frame (masks and image first: the matcher takes any order)."""
        header = Header(stamp=stamp(sec), frame_id=f'cam{sec}')
        det_msg, mask_msg = detections_to_msgs(dets, header, W, H)
        if masks:
            if masks_stamp is not None:
                mask_msg.header = Header(stamp=stamp(masks_stamp), frame_id=header.frame_id)
            self.pub_masks.publish(mask_msg)
        if image is not None:
            self.pub_image.publish(image if isinstance(image, Image)
                                   else array_to_image(image, 'rgb8', header))
        self.pub_det.publish(det_msg)
        self.sent[sec] = self.sent.get(sec, 0) + 1

    def track(self, sec: int, dets: Detections, image=None, **kwargs) -> TrackedObjectArray:
        """Send a frame and return its tracks; re-sent while they do not come (a lost message
        must not fail the test; a second copy that does arrive is skipped as a repeated stamp)."""
        for _ in range(int(REPLY_S / RESEND_S)):
            self.send(sec, dets, image, **kwargs)
            if spin_until(self.executor, lambda: sec in self.tracks, RESEND_S):
                return self.tracks[sec][0]
        raise AssertionError(f'no tracks for stamp {sec} in {REPLY_S} s')

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
    """Track scene frames first.. first+count-1 at stamps start_sec+i; returns the car's id."""
    for i in range(first, first + count):
        dets, image = scene(i)
        msg = peer.track(start_sec + i, dets, image)
    return car_of(msg).track_id


def test_ids_persist_and_outputs_keep_the_input_stamp(tracker):
    proc, peer = tracker
    for i in range(8):
        dets, image = scene(i)
        assert peer.track(10 + i, dets, image).header.frame_id == f'cam{10 + i}'
    ids = {car_of(peer.tracks[sec][0]).track_id for sec in range(11, 18)}
    assert len(ids) == 1, f'the car keeps one id: {ids}'
    car = car_of(peer.tracks[17][0])
    assert car.has_mask and car.mask.width > 0 and car.velocity_x > 0 and car.hits == 8
    assert peer.wait(lambda: 17 in peer.track_dets and 17 in peer.images)
    assert str(car.track_id) in [d.id for d in peer.track_dets[17][0].detections]
    annotated = peer.images[17][0]
    assert annotated.header.frame_id == 'cam17' and (annotated.width, annotated.height) == (W, H)


def test_detections_whose_image_never_comes_are_tracked_on_motion(tracker):
    proc, peer = tracker
    car_id = run_frames(peer, 0, 3)
    dets, _ = scene(3)
    assert car_of(peer.track(13, dets, image=None)).track_id == car_id
    # Each copy of stamp 13 that arrived waited for its image in vain (copies are re-sends).
    seen = wait_counters(peer, proc, lambda c: c.get('missing_image', 0) >= 1)
    assert seen['missing_image'] <= peer.sent[13] and seen['frames_without_image'] == 1, seen


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
    assert car_of(peer.track(15, dets, image, masks_stamp=5)).track_id == car_id  # never paired
    dets, image = scene(6)
    header = Header(stamp=stamp(16), frame_id='cam16')
    _, two_masks = detections_to_msgs(dets, header, W, H)
    peer.pub_masks.publish(two_masks)  # 2 masks for 1 detection (sent first: paired on arrival)
    assert car_of(peer.track(16, dets.select([0]), image, masks=False)).track_id == car_id
    expected = {'rejected_nonfinite': 1, 'rejected_size': 1, 'rejected_outside': 2,
                'masks_mismatched': 1}
    seen = wait_counters(peer, proc, lambda c: all(c.get(k) == v for k, v in expected.items())
                         and c.get('unused_masks', 0) >= 1)
    log = proc.output()
    assert 'skipped 4 of 6 detections' in log and 'ignoring masks: 2 masks for 1 detections' in log
    assert seen['frames'] == 7 and proc.proc.poll() is None


def test_repeated_stamp_is_skipped_and_counted(tracker):
    proc, peer = tracker
    car_id = run_frames(peer, 0, 3)  # stamps 10..12
    # Stamp 12 again with the car far away: tracked, it would move the car or start a track.
    moved, image = scene(20)
    peer.send(12, moved, image)
    seen = wait_counters(peer, proc, lambda c: c.get('duplicate_stamps', 0) >= 1)
    assert seen['duplicate_stamps'] == 1 and seen['frames'] == 3, seen
    assert 'skipping detections with a repeated stamp (1 so far)' in proc.output()
    assert len(peer.tracks[12]) == 1, 'no second tracks message for the repeated stamp'
    dets, image = scene(3)
    car = car_of(peer.track(13, dets, image))
    # Updated by frames 10..13 only: the repeated frame left the tracker as it was.
    assert car.track_id == car_id and car.hits == 4
    assert 'resetting the tracker' not in proc.output()


def test_malformed_image_is_rejected_and_tracking_goes_on(tracker):
    proc, peer = tracker
    car_id = run_frames(peer, 0, 3)
    assert peer.wait(lambda: 12 in peer.images), 'annotated images come while subscribed'
    dets, _ = scene(3)
    header = Header(stamp=stamp(13), frame_id='cam13')
    truncated = Image(header=header, height=H, width=W, encoding='rgb8', step=W * 3,
                      data=bytes(W * 3 * (H - 1)))  # one row short
    assert car_of(peer.track(13, dets, truncated)).track_id == car_id
    seen = wait_counters(peer, proc, lambda c: c.get('images_rejected', 0) >= 1)
    assert 1 <= seen['images_rejected'] <= peer.sent[13], seen
    assert 'malformed image' in proc.output()
    dets, image = scene(4)
    assert car_of(peer.track(14, dets, image)).track_id == car_id
    # Still drawing: the next good image is annotated; nothing was drawn from the bad one.
    assert peer.wait(lambda: 14 in peer.images) and 13 not in peer.images
    assert proc.proc.poll() is None


def test_stamp_going_backwards_resets_the_tracker(tracker):
    proc, peer = tracker
    run_frames(peer, 0, 3)
    old_ids = {o.track_id for msgs in peer.tracks.values() for o in msgs[0].objects}
    run_frames(peer, 0, 3, start_sec=1)  # stamps 1..3: the bag looped
    assert 'resetting the tracker' in proc.output()
    new_ids = {o.track_id for sec in (1, 2, 3) for o in peer.tracks[sec][0].objects}
    assert min(new_ids) > max(old_ids), 'new tracks after the reset, ids never reused'
    assert car_of(peer.tracks[3][0]).track_id == car_of(peer.tracks[2][0]).track_id


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
