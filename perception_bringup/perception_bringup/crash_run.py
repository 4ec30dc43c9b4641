"""Kill detector_node of a running graph mid-bag and measure the outage (test and benchmark).

The graph (``testing.running_graph``, respawn on) tracks a people bag; once ``kill_after``
tracks messages have come, the detector process gets SIGKILL. What the tracker published
around it is summed up in an ``Outage``: frames without detections, the coasted (``predicted``)
tracks during the outage, the time from the kill to the first matched track after the restart,
and which of the people tracked before the kill kept their id.
"""
import dataclasses
import os
import signal
import threading
import time

from perception_bringup.testing import play_bags
from perception_ros_glue.ros_testing import wait_until

CONFIRMED = 1  # perception_msgs/TrackedObject.STATE_CONFIRMED


def child_pids(pid, text):
    """Pids of the direct children of ``pid`` whose command line contains ``text`` (Linux)."""
    found = []
    for task in os.listdir(f'/proc/{pid}/task'):
        with open(f'/proc/{pid}/task/{task}/children') as f:
            for child in f.read().split():
                try:
                    with open(f'/proc/{child}/cmdline', 'rb') as cmd:
                        if text in cmd.read().replace(b'\0', b' ').decode():
                            found.append(int(child))
                except FileNotFoundError:  # exited meanwhile
                    pass
    return found


def stamp_s(msg):
    """Header stamp of a message in seconds."""
    return msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9


def matched_ids(messages):
    """Ids of the tracks matched to a detection in ``messages`` (confirmed, not predicted)."""
    return {o.track_id for m in messages for o in m.objects
            if o.state == CONFIRMED and not o.predicted}


@dataclasses.dataclass
class Outage:
    """What the tracker published around a detector crash."""

    frames_total: int  # camera frames in the bag
    frames_without_detections: int  # frames between the last tracked before and the first after
    coasted_messages: int  # tracks messages with predicted objects (up to max_age frames)
    outage_rate_hz: float  # tracks messages per second (wall) from the kill to the recovery
    camera_rate_hz: float  # the played camera rate (wall)
    recovery_s: float  # SIGKILL -> first matched track received after the restart
    ids_before: int  # people matched in the second before the kill
    ids_kept: int  # of those, matched again with the same id after the restart
    frames_with_tracks: int  # distinct frames with a tracks message (predicted or matched)

    @property
    def kept_share(self):
        """Share of the people tracked before the kill that kept their id."""
        return self.ids_kept / self.ids_before if self.ids_before else 0.0


def predicted(msg):
    """Whether a tracks message holds coasted (predicted) tracks."""
    return any(o.predicted for o in msg.objects)


def first_recovery(received, kill_index):
    """Index in ``received`` of the first tracks message with matched tracks after coasted ones
    (the detector back after the kill); None while there is none."""
    seen_coasted = False
    for i in range(kill_index, len(received)):
        message = received[i][1]
        if predicted(message):
            seen_coasted = True
        elif seen_coasted and matched_ids([message]):
            return i
    return None


def crash_during_bag(graph, bag, frames, fps, start_s, kill_after, rate=0.5, timeout=240.0):
    """Play ``bag`` (``frames`` at ``fps`` from ``start_s``) into ``graph`` at ``rate``, SIGKILL
    its detector after ``kill_after`` tracks messages, wait for the bag's end; returns the Outage."""
    received = []  # (wall arrival, message), polled from graph.tracks
    player = threading.Thread(target=play_bags, args=(graph, [bag]), kwargs={'rate': rate},
                              daemon=True)
    player.start()

    def poll():
        received.extend((time.monotonic(), m) for m in graph.tracks[len(received):])
        return received
    assert wait_until(lambda: len(poll()) >= kill_after, timeout), f'{len(received)} tracks'
    detector = child_pids(graph.process.pid, 'detector_node')
    assert len(detector) == 1, detector
    os.kill(detector[0], signal.SIGKILL)
    killed, kill_index = time.monotonic(), len(received)
    before = [m for _, m in received[max(kill_index - int(fps), 0):kill_index]]  # ~1 s of stamps
    assert wait_until(lambda: first_recovery(poll(), kill_index) is not None, timeout), \
        'no matched tracks after the restart'
    back = first_recovery(received, kill_index)
    player.join(timeout)
    assert not player.is_alive(), 'the bag did not finish'
    last_stamp = start_s + (frames - 1) / fps
    wait_until(lambda: any(stamp_s(m) >= last_stamp - 1e-6 for _, m in poll()), 30)
    return summarise(received, before, kill_index, back, killed, frames, fps, rate)


def summarise(received, before, kill_index, back, killed, frames, fps, rate):
    """The Outage of the tracks received ``(wall time, message)``: killed at ``killed`` (wall)
    after ``kill_index`` messages, detections back at index ``back``; camera ``fps`` x ``rate``."""
    first_coasted = next(i for i in range(kill_index, back) if predicted(received[i][1]))
    last_detected = max(stamp_s(m) for _, m in received[:first_coasted])
    coasted = [t for t, m in received[kill_index:back] if predicted(m)]
    recovery = received[back][0] - killed
    ids_before = matched_ids(before)
    return Outage(frames_total=frames,
                  frames_without_detections=round((stamp_s(received[back][1]) - last_detected)
                                                  * fps) - 1,
                  coasted_messages=len(coasted),
                  outage_rate_hz=(back - kill_index) / recovery,
                  camera_rate_hz=fps * rate, recovery_s=recovery,
                  ids_before=len(ids_before),
                  ids_kept=len(ids_before & matched_ids(m for _, m in received[back:])),
                  frames_with_tracks=len({stamp_s(m) for _, m in received}))
