"""Kill detector_node of a running graph mid-bag and measure the outage (test and benchmark).

The graph (``testing.running_graph``, respawn on) tracks a people bag; once ``kill_after``
tracks messages have come, the detector process gets SIGKILL. What the tracker published
around it is summed up in an ``Outage``: the frames between the last detections fused before
the kill and the first after it, the tracks messages meanwhile (every camera frame still gets
one, its tracks ``predicted``), the time from the kill to the first detections fused after the
restart, and which of the people tracked before the kill kept their id.
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
    frames_without_detections: int  # frames between the last fused before and the first after
    predicted_messages: int  # tracks messages from the kill to the first fusion after it
    outage_rate_hz: float  # tracks messages per second (wall) from the kill to the recovery
    camera_rate_hz: float  # the played camera rate (wall)
    recovery_s: float  # SIGKILL -> first detections fused after the restart
    ids_before: int  # people matched in the second before the kill
    ids_kept: int  # of those, matched again with the same id after the restart
    frames_with_tracks: int  # distinct frames with a tracks message

    @property
    def kept_share(self):
        """Share of the people tracked before the kill that kept their id."""
        return self.ids_kept / self.ids_before if self.ids_before else 0.0


def predicted(msg):
    """Whether a tracks message holds predicted tracks (no detections for its image yet)."""
    return any(o.predicted for o in msg.objects)


def first_recovery(fused, newest_at_kill):
    """Index in ``fused`` of the first detections fused for a frame newer than the newest the
    killed detector can have taken (the restarted detector's); None while there is none."""
    return next((i for i, (_, m) in enumerate(fused) if stamp_s(m) > newest_at_kill), None)


def crash_during_bag(graph, bag, frames, fps, start_s, kill_after, rate=0.5, timeout=240.0):
    """Play ``bag`` (``frames`` at ``fps`` from ``start_s``) into ``graph`` at ``rate``, SIGKILL
    its detector after ``kill_after`` tracks messages, wait for the bag's end; returns the Outage."""
    received, fused = [], []  # (wall arrival, message), polled from graph.tracks / graph.fused
    player = threading.Thread(target=play_bags, args=(graph, [bag]), kwargs={'rate': rate},
                              daemon=True)
    player.start()

    def poll():
        now = time.monotonic()
        received.extend((now, m) for m in graph.tracks[len(received):])
        fused.extend((now, m) for m in graph.fused[len(fused):])
        return fused
    assert wait_until(lambda: len(poll()) and len(received) >= kill_after, timeout), \
        f'{len(received)} tracks'
    detector = child_pids(graph.process.pid, 'detector_node')
    assert len(detector) == 1, detector
    os.kill(detector[0], signal.SIGKILL)
    killed = time.monotonic()
    poll()
    kill_index, fused_before = len(received), len(fused)
    # Images reach both nodes at once: the killed detector took none newer than this.
    newest_at_kill = max(stamp_s(m) for _, m in received) + 0.5 / fps
    assert wait_until(lambda: first_recovery(poll(), newest_at_kill) is not None, timeout), \
        'no detections fused after the restart'
    back = first_recovery(fused, newest_at_kill)
    player.join(timeout)
    assert not player.is_alive(), 'the bag did not finish'
    last_stamp = start_s + (frames - 1) / fps
    wait_until(lambda: poll() and any(stamp_s(m) >= last_stamp - 1e-6 for _, m in received), 30)
    return summarise(received, fused, kill_index, fused_before, back, killed, frames, fps, rate)


def summarise(received, fused, kill_index, fused_before, back, killed, frames, fps, rate):
    """The Outage of the tracks and fused detections received ``(wall time, message)``: killed
    at ``killed`` (wall) after ``kill_index`` tracks and ``fused_before`` fused messages, the
    restarted detector's first fused at ``back``; camera ``fps`` x ``rate``."""
    recovered_at, first_back = fused[back]
    last_before = max(stamp_s(m) for _, m in fused[:fused_before])
    recovery = recovered_at - killed
    during = [m for t, m in received[kill_index:] if t <= recovered_at]
    before = [m for _, m in fused[:fused_before] if stamp_s(m) > last_before - 1.0]
    ids_before = matched_ids(before)
    return Outage(frames_total=frames,
                  frames_without_detections=round((stamp_s(first_back) - last_before) * fps) - 1,
                  predicted_messages=sum(predicted(m) for m in during),
                  outage_rate_hz=len(during) / recovery,
                  camera_rate_hz=fps * rate, recovery_s=recovery,
                  ids_before=len(ids_before),
                  ids_kept=len(ids_before & matched_ids(m for _, m in fused[back:])),
                  frames_with_tracks=len({stamp_s(m) for _, m in received}))
