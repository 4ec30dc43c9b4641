"""perception-bag-record: record topics of the running graph to a rosbag2 (raw CDR, no conversion).

Types are discovered from the graph; a topic that appears later is subscribed when it does.
Each change in the number of publishers matched on a topic is logged ("matched 1 publisher(s)
on /x"): a publisher sees the recorder a moment before the recorder has matched it, and what it
sends meanwhile is not recorded. Ctrl-C or SIGTERM stops between two messages, writes what DDS
already delivered and closes the bag, so what was recorded stays readable.
"""
import argparse
import time
from pathlib import Path

from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy

from perception_bringup import bag_io
from perception_bringup.cli import user_errors
from perception_bringup.ros_process import ros_node

PROG = 'perception-bag-record'
DISCOVERY_PERIOD_S = 0.2
QUEUE_DEPTH = 100


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n')[0].split(': ', 1)[1])
    parser.add_argument('out_bag', type=Path, help='output bag directory (must not exist)')
    parser.add_argument('--topics', nargs='+', required=True, help='topics to record')
    parser.add_argument('--storage', choices=sorted(bag_io.STORAGES), default='sqlite3',
                        help='rosbag2 storage (default: sqlite3)')
    parser.add_argument('--duration', type=float, default=None, help='stop after this many seconds')
    parser.add_argument('--quiet', action='store_true', help='no per-topic summary at the end')
    return parser.parse_args(argv)


def subscriber_qos(node, topic):
    """Reliable when every publisher offers it (no loss), best effort otherwise (to match at all)."""
    infos = node.get_publishers_info_by_topic(topic)
    reliable = infos and all(i.qos_profile.reliability == ReliabilityPolicy.RELIABLE for i in infos)
    return QoSProfile(depth=QUEUE_DEPTH, reliability=ReliabilityPolicy.RELIABLE if reliable
                      else ReliabilityPolicy.BEST_EFFORT)


class Recorder:
    """Subscribes to the wanted topics as they appear and writes each message as it arrives."""

    def __init__(self, node, writer, topics):
        self.node, self.writer, self.pending = node, writer, list(topics)
        self.counts = {}
        self.subscriptions = []
        self.matched = {}  # topic -> publishers matched at the last check

    def check(self):
        """Subscribe to new topics (``discover``) and log changes of the matched publishers."""
        self.discover()
        for subscription in self.subscriptions:
            topic, count = subscription.topic_name, subscription.get_publisher_count()
            if self.matched.get(topic) != count:
                self.matched[topic] = count
                self.node.get_logger().info(f'matched {count} publisher(s) on {topic}')

    def discover(self):
        """Subscribe to every pending topic that now has a publisher with a known type."""
        types = dict(self.node.get_topic_names_and_types())
        for topic in [t for t in self.pending if types.get(t) and self.node.count_publishers(t)]:
            msgtype = types[topic][0]
            connection = bag_io.add_topic(self.writer, topic, msgtype)
            self.counts[topic] = 0
            self.subscriptions.append(self.node.create_subscription(
                bag_io.message_class(msgtype), topic, self._writer_for(topic, connection),
                subscriber_qos(self.node, topic), raw=True))
            self.pending.remove(topic)
            self.node.get_logger().info(f'recording {topic} ({msgtype})')

    def _writer_for(self, topic, connection):
        """Subscription callback writing raw messages of `topic` stamped with their arrival time."""
        def write(rawdata):
            self.writer.write(connection, time.time_ns(), rawdata)
            self.counts[topic] += 1
        return write


def drain(executor, recorder, quiet_s=0.3, limit_s=3.0):
    """After a stop, write what DDS already delivered: spin until nothing came for `quiet_s`."""
    deadline = time.monotonic() + limit_s
    last_count, last_change = -1, time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - last_change < quiet_s:
        executor.spin_once(timeout_sec=0.05)
        count = sum(recorder.counts.values())
        if count != last_count:
            last_count, last_change = count, time.monotonic()


def record(args):
    """Record until Ctrl-C, SIGTERM or --duration; returns {topic: message count}."""
    writer = bag_io.open_writer(args.out_bag, args.storage)
    try:
        with ros_node('bag_record') as (node, stop):
            recorder = Recorder(node, writer, args.topics)
            recorder.check()
            node.create_timer(DISCOVERY_PERIOD_S, recorder.check)
            deadline = None if args.duration is None else time.monotonic() + args.duration
            executor = SingleThreadedExecutor(context=node.context)
            executor.add_node(node)
            while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
                executor.spin_once(timeout_sec=0.1)
            drain(executor, recorder)
            executor.shutdown()
    finally:
        writer.close()
    for topic in recorder.pending:
        print(f'{PROG}: warning: {topic} never appeared on the graph; not recorded', flush=True)
    return recorder.counts


def main(argv=None):
    """Entry point."""
    args = parse_args(argv)
    with user_errors(PROG):
        counts = record(args)
    if not args.quiet:
        summary = ', '.join(f'{t}: {n}' for t, n in counts.items()) or 'nothing'
        print(f'{PROG}: closed {args.out_bag} ({summary})', flush=True)


if __name__ == '__main__':
    main()
