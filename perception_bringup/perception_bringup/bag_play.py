"""perception-bag-play: publish a bag's messages on their topics with their original stamps.

Messages are published as the stored CDR bytes (rclpy publishers accept serialized data), so
headers, stamps and every other field arrive exactly as recorded, at no conversion cost.
"""
import argparse
import csv
import sys
import threading
import time
from pathlib import Path

from builtin_interfaces.msg import Time
from rclpy.duration import Duration
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rosgraph_msgs.msg import Clock
from tqdm import tqdm

from perception_bringup import bag_io
from perception_bringup.cli import UserError, user_errors
from perception_bringup.ros_process import ros_node
from perception_ros_glue.image_conversion import header_from_cdr
from perception_ros_glue.ros_conversions import stamp_to_ns

PROG = 'perception-bag-play'
QOS = {'reliable': QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE),
       'sensor_data': qos_profile_sensor_data}
ACK_TIMEOUT_S = 2.0


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n')[0].split(': ', 1)[1])
    parser.add_argument('bag', type=Path, help='rosbag2 directory, .db3 or .mcap file')
    parser.add_argument('--rate', type=float, default=1.0,
                        help='playback speed factor (default 1.0 = real time; 0 = as fast as possible)')
    parser.add_argument('--clock', action='store_true',
                        help='publish /clock (rosgraph_msgs/Clock) with the bag time, for use_sim_time')
    parser.add_argument('--loop', action='store_true', help='play again from the start until Ctrl-C')
    parser.add_argument('--topics', nargs='+', default=None, help='play only these topics (default: all)')
    parser.add_argument('--qos', choices=sorted(QOS), default='reliable',
                        help='publisher QoS (default reliable: matches reliable and best-effort readers)')
    parser.add_argument('--wait-for-subscribers', type=float, default=0.0, metavar='SECONDS',
                        help='before playing, wait up to this long until every topic (and '
                             '/clock with --clock) has --min-subscribers subscribers')
    parser.add_argument('--min-subscribers', type=int, default=1,
                        help='subscribers per topic that --wait-for-subscribers waits for (default 1)')
    parser.add_argument('--delay', type=float, default=0.0, metavar='SECONDS',
                        help='sleep this long before playing (after any wait for subscribers)')
    parser.add_argument('--start-paused', action='store_true',
                        help='after any wait for subscribers, play once a line (Enter) is read on '
                             'standard input or it closes: a subscriber that the player sees may '
                             'not have matched the player yet, and what it misses meanwhile is '
                             'lost; a harness starts the playback once its readers report the match')
    parser.add_argument('--publish-log', type=Path, default=None,
                        help='write topic, header stamp (ns) and wall publish time (ns) of every '
                             'message with a header to this CSV (for latency measurements)')
    parser.add_argument('--quiet', action='store_true', help='no progress bar')
    args = parser.parse_args(argv)
    if args.rate < 0:
        parser.error('--rate must be >= 0')
    return args


def wait_for_start_line(stop):
    """Block until a line (or end of file) comes on standard input, or ``stop`` is set; returns
    whether to play."""
    line_read = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.readline(), line_read.set()), daemon=True).start()
    while not line_read.wait(0.05):
        if stop.is_set():
            return False
    return not stop.is_set()


def wait_for_subscribers(node, publishers, timeout, count, stop):
    """Wait until each publisher has `count` subscribers or `timeout` passes; warn if not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stop.is_set():
        if all(p.get_subscription_count() >= count for p in publishers.values()):
            return
        stop.wait(0.05)
    lonely = [t for t, p in publishers.items() if p.get_subscription_count() < count]
    if lonely:
        node.get_logger().warning(f'fewer than {count} subscribers after {timeout:g} s on '
                                  f'{", ".join(lonely)}; playing anyway')


class Player:
    """Publishes messages paced by their bag timestamps, scaled by `rate`."""

    def __init__(self, publishers, rate, clock_publisher, log_writer, stop):
        self.publishers, self.rate, self.stop = publishers, rate, stop
        self.clock_publisher, self.log_writer = clock_publisher, log_writer
        self.headered = {}
        self.published = 0

    def play(self, reader, connections, bar):
        """Play every message of `connections` once; False when stopped by a signal."""
        start_wall, start_bag = None, None
        for connection, timestamp, rawdata in bag_io.read_messages(reader, connections):
            delay = 0.0
            if self.rate > 0 and start_bag is not None:
                delay = start_wall + (timestamp - start_bag) * 1e-9 / self.rate - time.monotonic()
            if self.stop.wait(max(delay, 0.0)):
                return False
            if self.clock_publisher:
                self.clock_publisher.publish(Clock(clock=_time_msg(timestamp)))
            # Taken before publishing: a 1 MB image's publish call can outlast the graph's
            # answer, and a time taken after it made the demo's latencies negative once.
            sent_ns = time.time_ns()
            self.publishers[connection.topic].publish(rawdata)
            if self.log_writer and self._has_header(connection.msgtype):
                stamp = stamp_to_ns(header_from_cdr(rawdata).stamp)
                self.log_writer.writerow((connection.topic, stamp, sent_ns))
            self.published += 1
            bar.update()
            if start_bag is None:
                # The schedule starts once the first message is out: its one-off costs (first
                # publish to a reader, type lookups, progress bar) took over 100 ms here, and the
                # frames due meanwhile would otherwise go out in one burst.
                start_wall, start_bag = time.monotonic(), timestamp
        return True

    def _has_header(self, msgtype):
        """Cached bag_io.has_header."""
        if msgtype not in self.headered:
            self.headered[msgtype] = bag_io.has_header(msgtype)
        return self.headered[msgtype]


def _time_msg(ns):
    """builtin_interfaces/Time of nanoseconds."""
    return Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


def play(args):
    """Open the bag, create the publishers and play; returns the number of messages published."""
    reader = bag_io.open_reader(args.bag)
    connections = bag_io.connections_for(reader, args.topics)
    total = sum(c.msgcount for c in connections)
    if total == 0:
        raise UserError(f'bag {args.bag} has no message to play')
    log_file = args.publish_log.open('w', newline='') if args.publish_log else None
    player = None
    try:
        with ros_node('bag_play') as (node, stop):
            publishers = {c.topic: node.create_publisher(bag_io.message_class(c.msgtype), c.topic,
                                                          QOS[args.qos]) for c in connections}
            clock = node.create_publisher(Clock, '/clock', 10) if args.clock else None
            if args.wait_for_subscribers > 0:
                waited = {**publishers, **({'/clock': clock} if clock else {})}
                wait_for_subscribers(node, waited, args.wait_for_subscribers,
                                     args.min_subscribers, stop)
            if args.start_paused:
                print(f'{PROG}: paused: press Enter to play', flush=True)
                wait_for_start_line(stop)
            stop.wait(args.delay)
            log_writer = csv.writer(log_file) if log_file else None
            if log_writer:
                log_writer.writerow(('topic', 'stamp_ns', 'publish_ns'))
            player = Player(publishers, args.rate, clock, log_writer, stop)
            with tqdm(total=None if args.loop else total, unit='msg', desc='play',
                      disable=args.quiet) as bar:
                while player.play(reader, connections, bar) and args.loop:
                    pass
            if stop.is_set():
                print(f'{PROG}: interrupted', flush=True)
            # Let reliable readers fetch the last messages before the writers disappear (the
            # /clock writer is reliable whatever --qos says: without this the last tick, the
            # time a use_sim_time node stays at, could be lost).
            reliable = list(publishers.values()) if args.qos == 'reliable' else []
            for publisher in reliable + ([clock] if clock else []):
                publisher.wait_for_all_acked(Duration(seconds=ACK_TIMEOUT_S))
    finally:
        reader.close()
        if log_file:
            log_file.close()
    return player.published if player else 0


def main(argv=None):
    """Entry point."""
    args = parse_args(argv)
    with user_errors(PROG):
        published = play(args)
    if not args.quiet:
        print(f'{PROG}: published {published} messages from {args.bag}')


if __name__ == '__main__':
    main()
