"""``main()`` plumbing shared by the nodes: init, start (managed nodes), spin, clean stop on
Ctrl-C/SIGTERM, exit codes."""
from __future__ import annotations

import re

import rclpy
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.signals import SignalHandlerOptions

from perception_ros_glue.stop_signals import StopSignals

# Errors in the user's configuration (weights, parameters): one clear line, exit code 1.
CONFIG_ERRORS = (RuntimeError, ValueError, OSError, ParameterException)
# Longest wait for work before the stop flag is looked at again: a Ctrl-C's latency.
SIGNAL_CHECK_S = 0.1


def run_node(node_class, node_name: str, args=None) -> int:
    """Create ``node_class()`` and spin it until Ctrl-C/SIGTERM; returns the process exit code."""
    try:  # rclpy's signal handlers off: StopSignals stops between callbacks instead
        rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    except _rclpy.RCLError as exc:  # the command line: a parameter file missing or not YAML
        rclpy.logging.get_logger(node_name).fatal(f'cannot start: {init_error(exc)}')
        return 1
    node = executor = None
    with StopSignals(interruptible=True) as signals:
        try:
            try:
                node = node_class()
                if hasattr(node, 'start'):  # a ManagedNode: configure and activate (autostart)
                    node.start()
            except CONFIG_ERRORS as exc:
                if not rclpy.ok():  # shut down while starting up: not a configuration error
                    return 0
                rclpy.logging.get_logger(node_name).fatal(f'cannot start: {exc}')
                return 1
            executor = SingleThreadedExecutor()
            executor.add_node(node)
            signals.interruptible = False  # from here a signal waits for the callback to end
            while not signals.requested.is_set() and rclpy.ok():
                executor.spin_once(timeout_sec=SIGNAL_CHECK_S)
            return 0
        except (KeyboardInterrupt, ExternalShutdownException):  # during start-up
            return 0
        finally:
            signals.interruptible = False
            if node is not None:
                node.destroy_node()
            if executor is not None:
                executor.shutdown()
            rclpy.try_shutdown()


def init_error(exc: Exception) -> str:
    """rcl's init error without its C source locations (``, at /src/parse.c:776``)."""
    text = str(exc).removeprefix('failed to initialize rcl: ')
    return re.sub(r',? at [^\s,]+\.c:\d+', '', text).strip()
