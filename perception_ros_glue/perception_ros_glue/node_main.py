"""``main()`` plumbing shared by the nodes: init, start (managed nodes), spin, clean stop on
Ctrl-C/SIGTERM, exit codes."""
from __future__ import annotations

import re

import rclpy
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy

# Errors in the user's configuration (weights, parameters): one clear line, exit code 1.
CONFIG_ERRORS = (RuntimeError, ValueError, OSError, ParameterException)


def run_node(node_class, node_name: str, args=None, executor=None) -> int:
    """Create ``node_class()`` and spin it until shutdown; returns the process exit code."""
    try:
        rclpy.init(args=args)
    except _rclpy.RCLError as exc:  # the command line: a parameter file missing or not YAML
        rclpy.logging.get_logger(node_name).fatal(f'cannot start: {init_error(exc)}')
        return 1
    node = None
    try:
        try:
            node = node_class()
            if hasattr(node, 'start'):  # a ManagedNode: configure and activate (autostart)
                node.start()
        except CONFIG_ERRORS as exc:
            if not rclpy.ok():  # Ctrl-C while starting up: not a configuration error
                return 0
            rclpy.logging.get_logger(node_name).fatal(f'cannot start: {exc}')
            return 1
        if executor is None:
            rclpy.spin(node)
        else:
            executor.add_node(node)
            executor.spin()
        return 0
    except (KeyboardInterrupt, ExternalShutdownException):
        return 0
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()


def init_error(exc: Exception) -> str:
    """rcl's init error without its C source locations (``, at /src/parse.c:776``)."""
    text = str(exc).removeprefix('failed to initialize rcl: ')
    return re.sub(r',? at [^\s,]+\.c:\d+', '', text).strip()
