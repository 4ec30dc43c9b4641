"""A small bounded hand-off between a subscription callback and a worker: newest frames win."""
from __future__ import annotations

import collections
import threading


class LatestFrames:
    """Holds at most ``maxlen`` pending items; putting into a full queue drops the oldest."""

    def __init__(self, maxlen: int = 1):
        if maxlen < 1:
            raise ValueError(f'queue size must be >= 1, got {maxlen}')
        self._items = collections.deque(maxlen=maxlen)
        self._cond = threading.Condition()
        self._closed = False

    def put(self, item) -> bool:
        """Add ``item``; returns True when an older pending item was dropped to make room."""
        with self._cond:
            dropped = len(self._items) == self._items.maxlen
            self._items.append(item)
            self._cond.notify()
        return dropped

    def get(self, timeout: float | None = None):
        """Oldest pending item, waiting up to ``timeout`` s; None on timeout or after close()."""
        with self._cond:
            self._cond.wait_for(lambda: self._items or self._closed, timeout)
            if self._closed or not self._items:
                return None
            return self._items.popleft()

    def close(self) -> None:
        """Wake and release every waiting get()."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
