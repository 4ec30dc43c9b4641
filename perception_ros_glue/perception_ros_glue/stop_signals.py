"""Ctrl-C and SIGTERM as a request to stop, taken between two callbacks.

rclpy's handlers raise ``KeyboardInterrupt`` wherever the main thread happens to be: inside a
callback half-way through updating the tracker, or inside rclpy's own executor. The teardown
that follows then works on that half-done state (a CI run once saw a tracker exit 1 on Ctrl-C).
Here a signal only sets a flag; the spin loop looks at it between callbacks.
"""
from __future__ import annotations

import signal
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """Context manager: SIGINT/SIGTERM set ``requested``; while ``interruptible`` (start-up, with
    nothing half-done to protect) they raise ``KeyboardInterrupt`` as Python's default would."""

    def __init__(self, interruptible: bool = False):
        self.requested = threading.Event()
        self.interruptible = interruptible
        self._previous: dict = {}

    def _handle(self, signum, frame) -> None:
        self.requested.set()
        if self.interruptible:
            raise KeyboardInterrupt

    def __enter__(self) -> 'StopSignals':
        self._previous = {sig: signal.signal(sig, self._handle) for sig in SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
