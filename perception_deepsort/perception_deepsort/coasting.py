"""Which camera frames to track on motion alone because the detector gives nothing for them.

Plain Python, no ROS: stamps are integer nanoseconds, ``now`` monotonic seconds. An image is
due for coasting when no detections message has come for ``wait_s`` (the detector is down,
restarting or stalled; at once when it has no publisher any more) and the image itself has
waited that long without detections of its stamp or a later one; the images a detector's first
answer after a silence skipped are coasted then. ``wait_s`` is the larger of
``after_s`` and three times the detector's median interval between messages, so a detector that
is merely slow (seconds per frame on a CPU) is waited for, not coasted over. Nothing is coasted
before the first detections: a tracker that never saw a detector has nothing to predict.
"""
from __future__ import annotations

import collections
import statistics
import typing

#: Images held while waiting (a few seconds of 30 Hz); the oldest is dropped beyond it.
MAX_PENDING = 256
#: Detection intervals the median is taken over.
INTERVALS = 10


class PendingImage(typing.NamedTuple):
    """An image that has no detections yet."""

    stamp: int
    frame_id: str
    arrival: float


class CoastGate:
    """Feed ``image`` and ``detections`` arrivals; ``due`` returns the images to coast, in order."""

    def __init__(self, after_s: float = 1.0):
        if after_s < 0:
            raise ValueError(f'coast_after_s must be >= 0, got {after_s}')
        self.after_s = after_s
        self._pending: collections.deque[PendingImage] = collections.deque()
        self._intervals: collections.deque[float] = collections.deque(maxlen=INTERVALS)
        self._last_arrival: float | None = None
        self._newest_stamp = -1
        self.counts = collections.Counter()

    def image(self, stamp: int, frame_id: str, now: float) -> None:
        """An image arrived; it waits for detections of its stamp (or a later one)."""
        if stamp <= self._newest_stamp:
            return  # its detections (or newer ones) are already there
        self._pending.append(PendingImage(stamp, frame_id, now))
        if len(self._pending) > MAX_PENDING:
            self._pending.popleft()
            self.counts['coast_dropped'] += 1

    def detections(self, stamp: int, now: float) -> list[PendingImage]:
        """A detections message arrived: images up to its stamp no longer wait. Returns the
        older images it skipped when it ends a silence (the restarted detector's first answer):
        those frames of the outage get no detections and are coasted now, in order."""
        silent = self._last_arrival is not None and now - self._last_arrival >= self.wait_s()
        if self._last_arrival is not None:
            self._intervals.append(now - self._last_arrival)
        self._last_arrival = now
        if stamp < self._newest_stamp:  # time went backwards (bag looped): older waits are void
            self._pending.clear()
        self._newest_stamp = stamp  # one detector publishes in stamp order
        skipped = []
        while self._pending and self._pending[0].stamp <= stamp:
            image = self._pending.popleft()
            if silent and image.stamp < stamp:
                skipped.append(image)
        return skipped

    def wait_s(self) -> float:
        """How long detections may be missing before their images are coasted."""
        typical = statistics.median(self._intervals) if self._intervals else 0.0
        return max(self.after_s, 3.0 * typical)

    def due(self, now: float, detector_present: bool = True) -> list[PendingImage]:
        """Images to track on motion alone now (oldest first); they are forgotten here."""
        if self._last_arrival is None or not self._pending:
            return []
        wait = self.wait_s() if detector_present else 0.0
        if now - self._last_arrival < wait:
            return []
        due = []
        while self._pending and now - self._pending[0].arrival >= wait:
            due.append(self._pending.popleft())
        return due

    def clear(self) -> None:
        """Forget waiting images and the detector's history (deactivate, reset)."""
        self._pending.clear()
        self._intervals.clear()
        self._last_arrival = None
        self._newest_stamp = -1
