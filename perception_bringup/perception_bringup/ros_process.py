"""One rclpy node per tool process; Ctrl-C and SIGTERM ask it to stop between two messages."""
import contextlib

import rclpy
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from perception_ros_glue.stop_signals import StopSignals


@contextlib.contextmanager
def ros_node(name):
    """Yield (node, stop): an rclpy node and an Event that Ctrl-C or SIGTERM sets.

    rclpy's own handlers stay off: a flag instead of an exception means no message is ever cut
    in half while being written or published, and the tool closes its files in order.
    """
    with StopSignals() as signals:
        rclpy.init(signal_handler_options=SignalHandlerOptions.NO)
        node = Node(name)
        try:
            yield node, signals.requested
        finally:
            node.destroy_node()
            rclpy.try_shutdown()
