"""``/diagnostics`` (``diagnostic_msgs/DiagnosticArray``) for the perception nodes.

Each node keeps cumulative counters (a ``Counters``) and publishes one ``DiagnosticStatus``
every ``diagnostics_publish_period_s`` (1 s): input and output rates, drops by reason and their
share, mean latency over the last period, what it runs (model, runtime, device), its
lifecycle state, its process id and its DDS matches (``matched_endpoints``). The level follows thresholds that are node parameters:

- ERROR: active and no input for ``diag_error_no_input_s``;
- WARN: more than ``diag_warn_drop_ratio`` of the period's input was dropped, or the mean
  latency exceeded ``diag_warn_latency_ms``;
- OK otherwise, and while not active (the state is in the message).

``evaluate`` is plain Python (no ROS); ``NodeDiagnostics`` publishes it on a steady-clock timer
(so it runs under ``use_sim_time`` too), whatever the lifecycle state.
"""
from __future__ import annotations

import collections
import dataclasses
import os
import threading
import time

from perception_ros_glue.node_params import ParamSpec

OK, WARN, ERROR = 0, 1, 2
LEVEL_NAMES = ('OK', 'WARN', 'ERROR')

DIAGNOSTICS_PARAMETERS = (
    ParamSpec('diagnostics_publish_period_s', 1.0, "Period of the node's status on /diagnostics "
              '(diagnostic_msgs/DiagnosticArray) [s]; 0 = not published.'),
    ParamSpec('diag_warn_drop_ratio', 0.5, 'Diagnostics WARN when more than this share of the '
              "period's input was dropped (stale, malformed, failed) [0..1]."),
    ParamSpec('diag_error_no_input_s', 5.0, 'Diagnostics ERROR when the active node received no '
              'input for this long [s] (the detector: images; the tracker: detections).'),
    ParamSpec('diag_warn_latency_ms', 1000.0, 'Diagnostics WARN when the mean latency over the '
              'period (input callback to output published) exceeds this [ms]; 0 = never.'),
)


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """The level rules of ``evaluate`` (see the parameters above)."""

    warn_drop_ratio: float = 0.5
    error_no_input_s: float = 5.0
    warn_latency_ms: float = 1000.0

    @classmethod
    def from_params(cls, params: dict) -> 'Thresholds':
        """From the node's ``diag_*`` parameter values; ValueError when out of range."""
        thresholds = cls(params['diag_warn_drop_ratio'], params['diag_error_no_input_s'],
                         params['diag_warn_latency_ms'])
        if not 0.0 <= thresholds.warn_drop_ratio <= 1.0:
            raise ValueError('parameter diag_warn_drop_ratio must be in [0, 1], got '
                             f'{thresholds.warn_drop_ratio}')
        if thresholds.error_no_input_s <= 0 or thresholds.warn_latency_ms < 0:
            raise ValueError('parameters diag_error_no_input_s must be > 0 and '
                             'diag_warn_latency_ms >= 0')
        return thresholds


class Counters:
    """Cumulative, thread-safe counts of one node: input, output, drops by reason, latency."""

    def __init__(self, drop_reasons=()):
        self._lock = threading.Lock()
        self.received = 0
        self.published = 0
        self.latency_s = 0.0  # summed over published outputs
        self.drops = {reason: 0 for reason in drop_reasons}
        self.last_input: float | None = None  # time.monotonic() of the newest input

    def input(self) -> None:
        """One input message arrived."""
        with self._lock:
            self.received += 1
            self.last_input = time.monotonic()

    def output(self, latency_s: float) -> None:
        """One output published, ``latency_s`` after its input arrived."""
        with self._lock:
            self.published += 1
            self.latency_s += latency_s

    def drop(self, reason: str, n: int = 1) -> None:
        """``n`` inputs dropped for ``reason``."""
        with self._lock:
            self.drops[reason] = self.drops.get(reason, 0) + n

    def snapshot(self) -> 'Snapshot':
        """The counts now, for ``evaluate``."""
        with self._lock:
            return Snapshot(time.monotonic(), self.received, self.published, self.latency_s,
                            dict(self.drops), self.last_input)


class EventRate:
    """Events of the last ``window_s`` seconds: their rate, and the means of values they carry
    (e.g. a detection's latency). Not thread-safe: one thread adds, any reads a snapshot."""

    def __init__(self, window_s: float = 5.0):
        self.window_s = window_s
        self._events: collections.deque = collections.deque()

    def add(self, now: float, *values: float) -> None:
        """One event at ``now`` (monotonic seconds) carrying ``values``."""
        self._events.append((now, values))
        self._prune(now)

    def rate(self, now: float) -> float:
        """Events per second over the window."""
        self._prune(now)
        return len(self._events) / self.window_s

    def mean(self, now: float, index: int = 0) -> float:
        """Mean of the events' ``index``-th value over the window (0 without events)."""
        self._prune(now)
        values = [v[index] for _, v in list(self._events) if len(v) > index]
        return sum(values) / len(values) if values else 0.0

    def _prune(self, now: float) -> None:
        """Forget events older than the window."""
        while self._events and self._events[0][0] < now - self.window_s:
            self._events.popleft()


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """Counters at one moment (monotonic seconds)."""

    time: float
    received: int = 0
    published: int = 0
    latency_s: float = 0.0
    drops: dict = dataclasses.field(default_factory=dict)
    last_input: float | None = None


def evaluate(previous: Snapshot, current: Snapshot, thresholds: Thresholds, active: bool,
             started: float) -> tuple[int, str, dict]:
    """``(level, message, values)`` for the period between two snapshots.

    ``started`` (monotonic) is when the node became active: "no input" counts from then when
    nothing has arrived yet.
    """
    period = max(current.time - previous.time, 1e-9)
    received = current.received - previous.received
    published = current.published - previous.published
    drops = {k: v - previous.drops.get(k, 0) for k, v in current.drops.items()}
    dropped = sum(drops.values())
    latency_ms = (1000.0 * (current.latency_s - previous.latency_s) / published
                  if published else 0.0)
    drop_ratio = dropped / received if received else 0.0
    since_input = current.time - (current.last_input if current.last_input is not None
                                  else started)
    values = {'rate_in_hz': f'{received / period:.2f}', 'rate_out_hz': f'{published / period:.2f}',
              'drop_ratio': f'{drop_ratio:.3f}', 'latency_ms': f'{latency_ms:.1f}',
              'seconds_since_input': f'{since_input:.1f}', 'received_total': str(current.received),
              'published_total': str(current.published),
              **{f'dropped_{k}': str(v) for k, v in drops.items()},
              **{f'dropped_{k}_total': str(v) for k, v in current.drops.items()}}
    if not active:
        return OK, 'not active', values
    problems = []
    level = OK
    if since_input > thresholds.error_no_input_s:
        level = ERROR
        problems.append(f'no input for {since_input:.1f} s')
    if received and drop_ratio > thresholds.warn_drop_ratio:
        level = max(level, WARN)
        why = ', '.join(f'{k} {v}' for k, v in drops.items() if v)
        problems.append(f'dropped {dropped} of {received} inputs ({why})')
    if thresholds.warn_latency_ms and latency_ms > thresholds.warn_latency_ms:
        level = max(level, WARN)
        problems.append(f'latency {latency_ms:.0f} ms')
    return level, '; '.join(problems) or 'ok', values


# ROS's own topics every node has: their matches say nothing about the graph.
_INTERNAL_TOPICS = ('/rosout', '/parameter_events', '/diagnostics')


def matched_endpoints(node) -> dict:
    """``{'publishers <topic>': n}`` for each of the node's subscriptions and ``{'subscribers
    <topic>': n}`` for each of its publishers: the writers / readers DDS matched with it.

    Seen from the node itself: a peer that sees this node is not yet matched by it (a message
    sent meanwhile is lost), so tools and tests wait for these before sending."""
    def ours(topic):
        return topic not in _INTERNAL_TOPICS and not topic.endswith('/transition_event')
    found = {f'publishers {s.topic_name}': s.get_publisher_count()
             for s in node.subscriptions if ours(s.topic_name)}
    found.update({f'subscribers {p.topic_name}': p.get_subscription_count()
                  for p in node.publishers if ours(p.topic_name)})
    return found


class NodeDiagnostics:
    """Publishes a node's status on ``/diagnostics`` every period, whatever its lifecycle state.

    ``describe()`` returns extra key/values (model, runtime, device...); ``is_active()`` whether
    the node takes input now; ``problems()`` (optional) the node's own ``[(level, text)]``
    while active.
    """

    def __init__(self, node, counters: Counters, describe, is_active, problems=None):
        """``node`` has declared ``DIAGNOSTICS_PARAMETERS``."""
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.clock import Clock, ClockType
        from perception_ros_glue.node_params import OUTPUT_QOS, parameter_values
        params = parameter_values(node, DIAGNOSTICS_PARAMETERS)
        self.node, self.counters = node, counters
        self._describe, self._is_active, self._problems = describe, is_active, problems
        self.thresholds = Thresholds.from_params(params)
        self._previous = counters.snapshot()
        self.active_since = time.monotonic()
        self._was_active = False
        self._publisher = None
        if params['diagnostics_publish_period_s'] > 0:
            self._publisher = node.create_publisher(DiagnosticArray, '/diagnostics', OUTPUT_QOS)
            node.create_timer(params['diagnostics_publish_period_s'], self.publish,
                              clock=Clock(clock_type=ClockType.STEADY_TIME))

    def status(self):
        """This period's ``DiagnosticStatus`` (and starts the next period)."""
        from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
        active = self._is_active()
        if active and not self._was_active:
            self.active_since = time.monotonic()
        self._was_active = active
        current = self.counters.snapshot()
        level, message, values = evaluate(self._previous, current, self.thresholds, active,
                                          self.active_since)
        self._previous = current
        if active and self._problems is not None:
            for extra_level, text in self._problems():
                message = text if level == OK else f'{message}; {text}'
                level = max(level, extra_level)
        extra = {**self._describe(), **matched_endpoints(self.node), 'pid': os.getpid()}
        values = {**values, **{k: str(v) for k, v in extra.items()}}
        return DiagnosticStatus(
            level=bytes([level]), name=self.node.get_fully_qualified_name(),
            message=message, hardware_id=self.node.get_fully_qualified_name(),
            values=[KeyValue(key=k, value=v) for k, v in values.items()])

    def publish(self) -> None:
        """Send this period's status."""
        from diagnostic_msgs.msg import DiagnosticArray
        array = DiagnosticArray()
        array.header.stamp = self.node.get_clock().now().to_msg()
        array.status = [self.status()]
        self._publisher.publish(array)
