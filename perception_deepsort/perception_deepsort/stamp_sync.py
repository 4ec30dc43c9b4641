"""Pairing a primary message stream (detections) with secondary ones (image, masks) by exact stamp.

Plain Python, no ROS: the caller passes stamps as integer nanoseconds and ``now`` as a monotonic
time in seconds. Frames come out in the order their primaries arrived, as soon as every expected
secondary is there, or incomplete once ``timeout_s`` has passed (a detection whose image never
arrives is still tracked) or once a newer message of each missing stream has arrived (one
publisher's messages arrive in order: the missing one was lost). Buffers are bounded;
everything discarded is counted in ``counts``.
"""
from __future__ import annotations

import collections
from dataclasses import dataclass, field


@dataclass
class Frame:
    """A primary message and the secondary messages of the same stamp (None = did not arrive)."""

    stamp: int
    primary: object
    arrival: float
    parts: dict = field(default_factory=dict)


class StampSync:
    """Bounded stamp matcher: ``add_primary``/``add`` messages, then ``pop_ready`` frames."""

    def __init__(self, secondary_keys, buffer_size: int = 10, timeout_s: float = 0.2):
        if buffer_size < 1:
            raise ValueError(f'sync buffer size must be >= 1, got {buffer_size}')
        if timeout_s < 0:
            raise ValueError(f'sync timeout must be >= 0 s, got {timeout_s}')
        self.keys = tuple(secondary_keys)
        self.buffer_size = buffer_size
        self.timeout_s = timeout_s
        self._pending: collections.deque[Frame] = collections.deque()
        # Secondaries that arrived before their primary: key -> {stamp: msg}, oldest first.
        self._early = {key: collections.OrderedDict() for key in self.keys}
        self._latest: dict = {}  # key -> stamp of the message of that stream that came last
        self.counts = collections.Counter()

    def add_primary(self, stamp: int, msg, now: float) -> None:
        """Queue a primary message, taking any secondary of the same stamp that came first."""
        parts = {key: self._early[key].pop(stamp, None) for key in self.keys}
        self._pending.append(Frame(stamp, msg, now, parts))

    def add(self, key: str, stamp: int, msg, now: float) -> None:
        """Attach a secondary message to its pending primary, or hold it until that arrives."""
        self._latest[key] = stamp
        for frame in self._pending:
            if frame.stamp == stamp and frame.parts[key] is None:
                frame.parts[key] = msg
                return
        early = self._early[key]
        if stamp in early:
            self.counts[f'duplicate_{key}'] += 1
        early[stamp] = msg
        early.move_to_end(stamp)
        if len(early) > self.buffer_size:
            early.popitem(last=False)
            self.counts[f'unused_{key}'] += 1

    def pop_ready(self, now: float, expected=None) -> list[Frame]:
        """Frames that are complete (every ``expected`` key; default all) or timed out, in order."""
        expected = self.keys if expected is None else tuple(expected)
        ready = []
        while self._pending:
            head = self._pending[0]
            # A stream whose newest message is later than the head will not bring the head's.
            complete = all(head.parts[key] is not None or self._latest.get(key, -1) > head.stamp
                           for key in expected)
            overdue = now - head.arrival >= self.timeout_s or len(self._pending) > self.buffer_size
            if not (complete or overdue):
                break
            self._pending.popleft()
            for key in expected:
                if head.parts[key] is None:
                    self.counts[f'missing_{key}'] += 1
            self._discard_older(head.stamp)
            ready.append(head)
        return ready

    def _discard_older(self, stamp: int) -> None:
        """Drop held secondaries at or before an emitted stamp: their primary will not come."""
        for key, early in self._early.items():
            for old in [s for s in early if s <= stamp]:
                del early[old]
                self.counts[f'unused_{key}'] += 1

    def clear(self) -> None:
        """Forget every pending and held message (counted as unused)."""
        self.counts['unused_primary'] += len(self._pending)
        self._pending.clear()
        self._latest.clear()
        for key, early in self._early.items():
            self.counts[f'unused_{key}'] += len(early)
            early.clear()

    def __len__(self) -> int:
        """Number of primaries waiting."""
        return len(self._pending)
