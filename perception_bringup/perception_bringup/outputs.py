"""Files a run leaves behind, from tracker messages: annotated MP4, MOTChallenge tracks, summary.

Shared by the offline processor and the demo, so both write the same formats the same way.
"""
import json
import platform
from pathlib import Path

import cv2
import numpy as np
from perception_msgs.msg import TrackedObject

from perception_deepsort.mot.io import write_results
from perception_ros_glue.ros_conversions import bbox_to_box


class AnnotatedVideo:
    """MP4 (mp4v) writer of RGB frames; opened at the first frame, when the size is known."""

    def __init__(self, path, fps):
        self.path, self.fps, self.writer, self.frames = Path(path), fps, None, 0

    def write(self, image_rgb):
        """Append one frame (HxWx3 uint8 RGB)."""
        if self.writer is None:
            height, width = image_rgb.shape[:2]
            self.writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*'mp4v'), self.fps,
                                          (width, height))
            if not self.writer.isOpened():
                raise OSError(f'OpenCV cannot write {self.path} (mp4v)')
        self.writer.write(cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))
        self.frames += 1

    def close(self):
        """Finish the file."""
        if self.writer is not None:
            self.writer.release()


class TracksTable:
    """MOTChallenge results rows of the confirmed tracks matched in each frame."""

    def __init__(self):
        self.frames, self.ids, self.boxes, self.scores = [], [], [], []
        self.track_ids = set()

    def add(self, frame, tracks_msg):
        """Add the rows of one perception_msgs/TrackedObjectArray for 1-based `frame`."""
        for obj in tracks_msg.objects:
            # deep_sort.confirmed_tracks on messages: confirmed and matched this frame (LOST is
            # a confirmed track coasting on its prediction).
            if obj.state != TrackedObject.STATE_CONFIRMED:
                continue
            self.frames.append(frame)
            self.ids.append(obj.track_id)
            self.boxes.append(bbox_to_box(obj.bbox))
            self.scores.append(obj.score)
            self.track_ids.add(obj.track_id)

    def write(self, path):
        """Write `frame,id,x,y,w,h,conf,-1,-1,-1` lines, ordered by frame then id."""
        order = np.lexsort((self.ids, self.frames)) if self.frames else []
        boxes = np.asarray(self.boxes, dtype=np.float64).reshape(-1, 4)
        write_results(str(path), np.asarray(self.frames)[order], np.asarray(self.ids)[order],
                      boxes[order], np.asarray(self.scores)[order])


def frame_index(stamps_ns):
    """{stamp: 1-based frame number} of the input frames, in stamp order."""
    return {stamp: i + 1 for i, stamp in enumerate(sorted(set(stamps_ns)))}


def write_summary(path, summary):
    """summary.json with the figures plus the machine they were taken on."""
    summary = {**summary, 'machine': {'platform': platform.platform(), 'processor': platform.machine(),
                                      'python': platform.python_version()}}
    Path(path).write_text(json.dumps(summary, indent=2) + '\n')
    return summary
