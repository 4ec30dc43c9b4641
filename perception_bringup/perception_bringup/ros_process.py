"""One rclpy node per tool process; Ctrl-C and SIGTERM ask it to stop between two messages."""
import contextlib
import signal
import threading

import rclpy
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions


@contextlib.contextmanager
def ros_node(name):
    """Yield (node, stop): an rclpy node and an Event that Ctrl-C or SIGTERM sets.

    rclpy's own handlers stay off: a flag instead of an exception means no message is ever cut
    in half while being written or published, and the tool closes its files in order.
    """
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    rclpy.init(signal_handler_options=SignalHandlerOptions.NO)
    node = Node(name)
    try:
        yield node, stop
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
