"""720p images at 30 Hz between two processes over DDS: loss after discovery and latency.

Runs a publisher process and a subscriber (this process) for each Fast DDS transport setting
and QoS, then prints a markdown table and writes benchmarks/results/dds.json.

    python benchmarks/bench_dds.py                 # 60 s per configuration
    python benchmarks/bench_dds.py --duration 10   # quicker look
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / 'results'


def qos_profile(name):
    """The QoS profile a camera driver would use ('sensor_data') or a reliable one."""
    from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
    if name == 'sensor_data':
        return qos_profile_sensor_data
    return QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)


def run_publisher(args):
    """Publish `rate` Hz images once a subscriber is matched; header.frame_id carries the index."""
    import rclpy
    from rclpy.node import Node
    from sensor_msgs.msg import Image
    rclpy.init()
    node = Node('bench_dds_publisher')
    pub = node.create_publisher(Image, 'bench_image', qos_profile(args.qos))
    msg = Image(height=args.height, width=args.width, encoding='rgb8', step=args.width * 3)
    msg.data = np.random.default_rng(0).integers(0, 255, args.height * args.width * 3,
                                                 dtype=np.uint8).tobytes()
    while pub.get_subscription_count() == 0:
        rclpy.spin_once(node, timeout_sec=0.05)
    time.sleep(args.settle)  # let discovery finish before counting: the goal is loss *after* it
    period = 1.0 / args.rate
    start = time.monotonic()
    for i in range(int(args.duration * args.rate)):
        next_time = start + i * period
        time.sleep(max(0.0, next_time - time.monotonic()))
        msg.header.frame_id = str(i)
        msg.header.stamp = node.get_clock().now().to_msg()
        pub.publish(msg)
    time.sleep(1.0)  # let the last frames arrive before the subscriber stops
    print(f'sent {int(args.duration * args.rate)}', flush=True)
    node.destroy_node()
    rclpy.try_shutdown()


PROFILE = Path(__file__).resolve().parents[1] / 'config' / 'fastdds_large_images.xml'
TRANSPORTS = {  # name -> Fast DDS environment
    'default': {'FASTDDS_BUILTIN_TRANSPORTS': 'DEFAULT'},
    'large_data': {'FASTDDS_BUILTIN_TRANSPORTS': 'LARGE_DATA'},
    'profile': {'FASTDDS_DEFAULT_PROFILES_FILE': str(PROFILE)},
}


def transport_env(transport):
    """os.environ with exactly one Fast DDS transport setting."""
    env = {k: v for k, v in os.environ.items()
           if k not in ('FASTDDS_BUILTIN_TRANSPORTS', 'FASTDDS_DEFAULT_PROFILES_FILE')}
    env.update(TRANSPORTS[transport])
    return env


def measure(args, transport, qos):
    """Run one publisher process and count what arrives here."""
    import rclpy
    from rclpy.node import Node
    from sensor_msgs.msg import Image
    env = transport_env(transport)
    os.environ.clear()
    os.environ.update(env)  # this process's participant uses the same transport
    rclpy.init()
    node = Node('bench_dds_subscriber')
    latencies, seen = [], set()

    def on_image(msg):
        now = node.get_clock().now().nanoseconds
        stamp = msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
        latencies.append((now - stamp) / 1e6)
        seen.add(int(msg.header.frame_id))

    node.create_subscription(Image, 'bench_image', on_image, qos_profile(qos))
    cmd = [sys.executable, __file__, '--role', 'pub', '--qos', qos, '--duration', str(args.duration),
           '--rate', str(args.rate), '--width', str(args.width), '--height', str(args.height)]
    pub = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    try:
        while pub.poll() is None:
            rclpy.spin_once(node, timeout_sec=0.05)
        for _ in range(20):  # drain what is still queued
            rclpy.spin_once(node, timeout_sec=0.05)
    finally:
        pub.kill() if pub.poll() is None else None
        node.destroy_node()
        rclpy.try_shutdown()
    sent = int(args.duration * args.rate)
    lat = np.array(latencies) if latencies else np.array([np.nan])
    return {'transport': transport, 'qos': qos, 'sent': sent, 'received': len(seen),
            'loss_percent': 100.0 * (sent - len(seen)) / sent,
            'latency_ms_median': float(np.median(lat)), 'latency_ms_p95': float(np.percentile(lat, 95))}


def main():
    """Measure each configuration and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--role', choices=['bench', 'pub'], default='bench')
    parser.add_argument('--duration', type=float, default=60.0, help='seconds of publishing')
    parser.add_argument('--rate', type=float, default=30.0)
    parser.add_argument('--width', type=int, default=1280)
    parser.add_argument('--height', type=int, default=720)
    parser.add_argument('--settle', type=float, default=2.0)
    parser.add_argument('--qos', default='sensor_data', choices=['sensor_data', 'reliable'])
    parser.add_argument('--transports', nargs='+', default=list(TRANSPORTS), choices=list(TRANSPORTS),
                        help='profile = config/fastdds_large_images.xml')
    args = parser.parse_args()
    if args.role == 'pub':
        return run_publisher(args)
    rows = []
    for transport in args.transports:
        for qos in ('sensor_data', 'reliable'):
            row = measure(args, transport, qos)
            rows.append(row)
            print(f"{transport:10s} {qos:11s} loss {row['loss_percent']:6.2f}%  "
                  f"latency median {row['latency_ms_median']:.1f} ms p95 {row['latency_ms_p95']:.1f} ms",
                  flush=True)
    print(f'\n{args.width}x{args.height} rgb8 at {args.rate:g} Hz for {args.duration:g} s, two processes\n')
    print('| Fast DDS transport | QoS | sent | received | loss | latency median | latency p95 |')
    print('|---|---|---|---|---|---|---|')
    for r in rows:
        print(f"| {r['transport']} | {r['qos']} | {r['sent']} | {r['received']} | {r['loss_percent']:.2f}% "
              f"| {r['latency_ms_median']:.1f} ms | {r['latency_ms_p95']:.1f} ms |")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / 'dds.json').write_text(json.dumps({
        'machine': {'cpus': os.cpu_count(), 'platform': platform.platform()},
        'settings': vars(args), 'results': rows}, indent=2))


if __name__ == '__main__':
    main()
