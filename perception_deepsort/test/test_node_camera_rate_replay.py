"""The live tracker_node and perception-track-mot --camera-rate --detection-delay give the same
tracks for the same arrival order.

A generated sequence keeps its detections on every 3rd frame only. Offline, the tool replays it
with the detections 2 frames late. Live, a peer plays the same frames into the node over DDS in
the same order (the detections of frame k - 2, then image k), each message re-sent until its
output is seen (fused tracks for detections, tracks for an image), and records the tracks the
node publishes for every image. Both are written as MOTChallenge rows and must agree row for
row: same frames, same ids, same boxes.
"""
import subprocess
import uuid

import numpy as np
import pytest
from perception_msgs.msg import TrackedObject, TrackedObjectArray
from sensor_msgs.msg import Image
from std_msgs.msg import Header
from vision_msgs.msg import Detection2DArray

from perception_deepsort.mot import io, synthetic
from perception_deepsort.mot.track import frame_stamp
from perception_ros_glue.detections import Detections
from perception_ros_glue.image_conversion import array_to_image
from perception_ros_glue.node_params import OUTPUT_QOS
from perception_ros_glue.ros_conversions import bbox_to_box, detections_to_msgs
from perception_ros_glue.ros_testing import (NodeProcess, close_test_node, make_test_node,
                                             resend_until, wait_for_peers)

FRAMES, EVERY, DELAY = 24, 3, 2
DISCOVERY_S, REPLY_S = 90.0, 20.0
CONFIG = '/**:\n  ros__parameters:\n    embedder: histogram\n    n_init: 2\n'  # any namespace


@pytest.fixture(scope='module')
def sequence(tmp_path_factory):
    """A 320x240 sequence of 4 walkers whose det.txt keeps every 3rd frame's rows."""
    seq = tmp_path_factory.mktemp('replay') / 'SPARSE'
    synthetic.write_sequence(str(seq), synthetic.SceneConfig(
        width=320, height=240, frames=FRAMES, objects=4, seed=7, false_positives_per_frame=0.2),
        progress=False)
    table = io.load_table(str(seq / 'det' / 'det.txt'))
    keep = (table[:, 0].astype(int) - 1) % EVERY == 0
    np.savetxt(seq / 'det' / 'det.txt', table[keep], delimiter=',', fmt='%g')
    (seq.parent / 'config.yaml').write_text(CONFIG)
    return seq


def offline_rows(seq, tmp_path):
    """perception-track-mot --camera-rate --detection-delay: (frame, id, box) rows."""
    out = tmp_path / 'offline.txt'
    run = subprocess.run(['perception-track-mot', '--seq-dir', str(seq), '--out', str(out),
                          '--config', str(seq.parent / 'config.yaml'), '--camera-rate',
                          '--detection-delay', str(DELAY), '--no-progress'],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return [(int(r[0]), int(r[1]), tuple(np.round(io.xywh_to_xyxy(r[2:6])[0], 2)))
            for r in io.load_table(str(out))]


def header(info, index):
    """The header of 0-based frame ``index``: the tool's stamp."""
    h = Header(frame_id='cam')
    h.stamp.sec, h.stamp.nanosec = divmod(frame_stamp(index, info.frame_rate), 10**9)
    return h


def key(h):
    """A header's stamp as a dict key."""
    return h.stamp.sec, h.stamp.nanosec


def test_live_node_and_offline_tool_publish_the_same_tracks(sequence, tmp_path):
    info = io.read_seqinfo(str(sequence))
    namespace = f'/r{uuid.uuid4().hex[:8]}'
    proc = NodeProcess('tracker_node', ['--params-file', str(sequence.parent / 'config.yaml'),
                                        '-p', 'qos:=reliable', '-r', f'__ns:={namespace}'])
    context, node, executor = make_test_node('replay_peer')
    tracks, fused = {}, {}
    try:
        pub_image = node.create_publisher(Image, f'{namespace}/image', OUTPUT_QOS)
        pub_det = node.create_publisher(Detection2DArray, f'{namespace}/detections', OUTPUT_QOS)
        subs = [node.create_subscription(TrackedObjectArray, f'{namespace}/{topic}',
                                         lambda m, t=table: t.setdefault(key(m.header), m), 50)
                for topic, table in (('tracks', tracks), ('tracks/fused', fused))]
        assert wait_for_peers(executor, [pub_image, pub_det, *subs], DISCOVERY_S), proc.output()
        detections = io.read_detections(str(sequence), info.length)
        for k in range(FRAMES):
            j = k - DELAY  # its detections arrive now, before image k
            if j >= 0 and len(detections[j].boxes):
                h = header(info, j)
                found = Detections(detections[j].boxes, detections[j].scores,
                                   detections[j].class_ids, ['0'])
                msg, _ = detections_to_msgs(found, h, info.width, info.height)
                assert resend_until(executor, lambda: pub_det.publish(msg),
                                    lambda: key(h) in fused, REPLY_S), proc.output()
            h = header(info, k)
            image = array_to_image(io.read_frame(str(sequence), info, k + 1), 'rgb8', h)
            assert resend_until(executor, lambda: pub_image.publish(image),
                                lambda: key(h) in tracks, REPLY_S), proc.output()
    finally:
        close_test_node(context, node, executor)
        proc.close()
    live = sorted((k + 1, o.track_id, tuple(np.round(bbox_to_box(o.bbox), 2)))
                  for k in range(FRAMES) for o in tracks[key(header(info, k))].objects
                  if o.state == TrackedObject.STATE_CONFIRMED)
    offline = sorted(offline_rows(sequence, tmp_path))
    assert len(live) > FRAMES, 'the walkers are tracked on most frames'
    assert [r[:2] for r in live] == [r[:2] for r in offline]
    np.testing.assert_allclose([r[2] for r in live], [r[2] for r in offline], atol=0.011)
