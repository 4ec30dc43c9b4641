"""Per-frame stage times of a node, for its debug log (``--log-level <node>:=debug``).

Plain Python, no ROS. Times relative to the image stamp use the wall clock (the stamp is wall
time when the camera and the node share a machine); stage durations use ``perf_counter``.
The line format, ``timing stamp=<ns> <stage>_ms=<value> ...``, is parsed by
``benchmarks/bench_pipeline.py``.
"""
from __future__ import annotations

import re
import time

_LINE = re.compile(r'timing stamp=(\d+)((?: \w+_ms=-?[\d.]+)+)')


class FrameTiming:
    """Named stage times [ms] of one frame, in the order they were recorded."""

    def __init__(self, stamp_ns: int):
        self.stamp_ns = stamp_ns
        self.stages: dict[str, float] = {}
        self._last = time.perf_counter()

    def since_stamp(self, name: str, wall: float | None = None) -> None:
        """Record ``wall`` (default now, ``time.time()``) minus the stamp as stage ``name``."""
        wall = time.time() if wall is None else wall
        self.stages[name] = (wall - self.stamp_ns * 1e-9) * 1000.0

    def restart(self) -> None:
        """Start the next ``lap`` from now (after a wait that is recorded otherwise)."""
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        """Record the time since the previous lap (or ``restart``) as stage ``name``."""
        now = time.perf_counter()
        self.stages[name] = (now - self._last) * 1000.0
        self._last = now

    def line(self) -> str:
        """``timing stamp=<ns> <stage>_ms=<value> ...``: one log line."""
        return f'timing stamp={self.stamp_ns} ' + ' '.join(
            f'{k}_ms={v:.3f}' for k, v in self.stages.items())


def parse_timing(log: str) -> dict[int, dict[str, float]]:
    """``{stamp_ns: {stage: ms}}`` of every timing line in a node's log."""
    frames = {}
    for stamp, fields in _LINE.findall(log):
        frames[int(stamp)] = {k[:-3]: float(v) for k, v in
                              (f.split('=') for f in fields.split())}
    return frames
