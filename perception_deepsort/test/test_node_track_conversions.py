"""Tracker outputs -> TrackedObjectArray / Detection2DArray, from a real FrameTracker run."""
import numpy as np
from perception_msgs.msg import TrackedObject
from std_msgs.msg import Header

from perception_deepsort.config import TrackerConfig
from perception_deepsort.deep_sort import DeepSort, TrackState
from perception_deepsort.frame_tracker import TRACKS, FrameTracker
from perception_deepsort.track_conversions import confirmed_detections, tracks_to_msg
from perception_ros_glue.detections import Detections, crop_mask
from perception_ros_glue.ros_conversions import (bbox_to_box, detections_to_msgs,
                                                 masks_from_msg)
from perception_ros_glue.ros_testing import stamp

NAMES = ['person', 'car']


def frame(i: int) -> Detections:
    """A car moving right at 3 px/frame, with a mask; a person standing still, without one."""
    car = [20 + 3 * i, 30, 60 + 3 * i, 50]
    full = np.zeros((100, 160), bool)
    full[32:48, 22 + 3 * i:58 + 3 * i] = True
    window, origin = crop_mask(full, car)
    return Detections([car, [100, 10, 120, 70]], [0.9, 0.8], [1, 0], NAMES,
                      [window, np.zeros((0, 0), bool)], [origin, (0, 0)])


def tracked(tracker, i, dets=None):
    """Frame i (stamp 100 s + i / 10) through the engine, with ``dets``; its TRACKS output."""
    ns = 100_000_000_000 + i * 100_000_000
    if dets is not None:
        _, masks_msg = detections_to_msgs(dets, Header(), 160, 100)
        tracker.detections(ns, 'cam', dets, 0.0, masks=masks_from_msg(masks_msg))
    [output] = [o for o in tracker.image(ns, 'cam', None, 0.0) if o.kind == TRACKS]
    return output.tracks, masks_msg if dets is not None else None


def test_every_field_and_the_matched_mask_are_converted():
    tracker = FrameTracker(TrackerConfig(n_init=2, embedder='none', camera_motion=False,
                                         box_flow=False))
    for i in range(4):
        header = Header(stamp=stamp(100 + i), frame_id='cam')
        tracks, masks_msg = tracked(tracker, i, frame(i))
    msg = tracks_to_msg(tracks, header, NAMES)
    assert msg.header == header and len(msg.objects) == 2
    car = next(o for o in msg.objects if o.class_id == 'car')
    car_track = next(t for t in tracks if t.class_id == 1)
    assert car.track_id == car_track.track_id and car.state == TrackedObject.STATE_CONFIRMED
    np.testing.assert_allclose(bbox_to_box(car.bbox), car_track.box, atol=1e-6)
    assert car.velocity_x > 0 and car.hits == 4 and car.age == 4 and car.time_since_update == 0.0
    assert car.has_mask and car.mask == masks_msg.masks[car_track.detection_index]
    person = next(o for o in msg.objects if o.class_id == 'person')
    assert not person.has_mask and person.mask.width == 0
    assert not any(o.predicted for o in msg.objects)
    # A frame without detections: the predictions are marked, the car's mask moved along.
    predicted = tracks_to_msg(tracked(tracker, 5)[0], header, NAMES)
    assert len(predicted.objects) == 2 and all(
        o.predicted and o.state == TrackedObject.STATE_CONFIRMED and o.time_since_update > 0
        for o in predicted.objects)
    car = next(o for o in predicted.objects if o.class_id == 'car')
    assert car.has_mask and car.mask.x_offset == int(np.floor(bbox_to_box(car.bbox)[0]))

    det_array = confirmed_detections(tracks, header, NAMES)
    assert sorted(d.id for d in det_array.detections) == sorted(str(t.track_id) for t in tracks)
    assert all(d.header == header for d in det_array.detections)


def test_only_confirmed_tracks_become_detections():
    tracker = DeepSort(TrackerConfig(n_init=3, embedder='none', camera_motion=False))
    dets = frame(0)
    tracks = tracker.update(dets.boxes, dets.scores, dets.class_ids, 1.0)
    assert {t.state for t in tracks} == {TrackState.TENTATIVE}
    assert confirmed_detections(tracks, Header(), NAMES).detections == []
    msg = tracks_to_msg(tracks, Header(), NAMES)
    assert {o.state for o in msg.objects} == {TrackedObject.STATE_TENTATIVE}


def test_track_states_are_the_message_constants():
    assert {s.name: int(s) for s in TrackState} == {
        name[len('STATE_'):]: getattr(TrackedObject, name)
        for name in dir(TrackedObject) if name.startswith('STATE_')}
