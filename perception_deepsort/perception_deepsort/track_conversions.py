"""Tracker outputs -> perception_msgs/TrackedObjectArray and vision_msgs/Detection2DArray."""
from __future__ import annotations

from perception_msgs.msg import TrackedObject, TrackedObjectArray
from vision_msgs.msg import Detection2DArray

from perception_deepsort.deep_sort import confirmed_tracks
from perception_ros_glue.ros_conversions import box_to_bbox, make_detection, mask_to_msg


def track_to_msg(track, class_names) -> TrackedObject:
    """One ``TrackedObject`` with every field of a ``TrackOutput``."""
    obj = TrackedObject()
    obj.track_id = int(track.track_id)
    obj.class_id = class_names[track.class_id]
    obj.score = float(track.score)
    obj.bbox = box_to_bbox(track.box)
    obj.velocity_x, obj.velocity_y = (float(v) for v in track.velocity)
    obj.state = int(track.state)  # TrackState values are the message constants
    obj.age = int(track.age)
    obj.hits = int(track.hits)
    obj.time_since_update = float(track.time_since_update)
    obj.predicted = bool(track.predicted)
    obj.has_mask = track.mask is not None
    if track.mask is not None:
        obj.mask = mask_to_msg(*track.mask)
    return obj


def tracks_to_msg(tracks, header, class_names) -> TrackedObjectArray:
    """Every live track of one frame; ``header`` is the input frame's header."""
    return TrackedObjectArray(header=header,
                              objects=[track_to_msg(t, class_names) for t in tracks])


def confirmed_detections(tracks, header, class_names) -> Detection2DArray:
    """Confirmed tracks as a ``Detection2DArray`` whose ``id`` is the track id."""
    return Detection2DArray(header=header, detections=[
        make_detection(header, t.box, class_names[t.class_id], t.score, str(t.track_id))
        for t in confirmed_tracks(tracks)])
