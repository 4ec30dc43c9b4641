"""Helpers for tests that run nodes as real processes and talk to them over DDS."""
from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import rclpy
import rclpy.executors
from builtin_interfaces.msg import Time


def descendants(pid: int) -> list[int]:
    """Process ids of every living descendant of ``pid`` (children first), from /proc (Linux).

    Processes in sessions of their own (perception-run-graph's nodes) are found too."""
    children: dict[int, list[int]] = {}
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            text = stat.read_text()
        except OSError:  # it ended meanwhile
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        state, ppid = text[text.rindex(')') + 2:].split()[:2]
        if state != 'Z':
            children.setdefault(int(ppid), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _command(pid: int) -> str:
    """The command line of a process ('' when it has ended)."""
    try:
        return Path(f'/proc/{pid}/cmdline').read_bytes().replace(b'\0', b' ').decode().strip()
    except OSError:
        return ''


def _kill(pids) -> list[str]:
    """SIGKILL each process; ``'pid command'`` of those that were still there."""
    killed = []
    for pid in pids:
        command = _command(pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            killed.append(f'{pid} {command[:200]}')
    return killed


def kill_descendants(pid: int) -> list[str]:
    """SIGKILL every living descendant of ``pid``; returns ``'pid command'`` of each killed."""
    return _kill(descendants(pid))


def kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL ``proc``, its process group and every descendant (also those in other sessions),
    and reap it. For every exit path of a test: nothing it started keeps running."""
    if proc.poll() is None:
        tree = descendants(proc.pid)  # first: once it is dead its orphans are no longer its own
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the leader lives: the group is still its own
        _kill(tree)
    proc.wait()


def popen_group(argv, **kwargs) -> subprocess.Popen:
    """``subprocess.Popen`` in a process group of its own (``kill_tree`` and ``stop_group`` end it
    with every child; a terminal's Ctrl-C does not reach it behind the test's back)."""
    return subprocess.Popen(argv, start_new_session=True, **kwargs)


def stop_group(proc: subprocess.Popen, sig=signal.SIGINT, timeout: float = 30.0) -> int:
    """Send ``sig`` to ``proc``'s process group and wait; ``kill_tree`` when it does not end in
    time; children that outlive it are killed. Returns the exit code."""
    if proc.poll() is None:
        tree = descendants(proc.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            kill_tree(proc)
        _kill(tree)  # children that outlived it (pids are not reused within seconds)
    return proc.returncode


class ToolProcess:
    """A command run in a process group of its own; output goes to a temporary log file. Use as
    a context manager, or ``close()`` it in a ``finally``: the process and its children are
    killed on every exit path."""

    def __init__(self, argv, env=None, cwd=None):
        path = shutil.which(argv[0])
        if path is None:
            raise FileNotFoundError(f'{argv[0]} is not on PATH (source scripts/env.sh)')
        self._log = tempfile.NamedTemporaryFile('w+', prefix=f'{Path(argv[0]).name}-',
                                                suffix='.log')
        self.proc = popen_group([path, *argv[1:]], stdout=self._log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env or dict(os.environ), cwd=cwd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def output(self) -> str:
        """Everything the process printed so far."""
        with open(self._log.name, encoding='utf-8', errors='replace') as f:
            return f.read()

    def wait(self, timeout: float) -> int:
        """Wait for the process to exit on its own; returns its exit code."""
        return self.proc.wait(timeout)

    def stop(self, sig=signal.SIGINT, timeout: float = 30.0) -> int:
        """Send ``sig`` (Ctrl-C by default) to its group and wait; killed if it does not stop in
        time (the exit code then says so: -9)."""
        return stop_group(self.proc, sig, timeout)

    def close(self) -> None:
        """Stop the process (if running), kill what is left of its group, delete its log."""
        try:
            self.stop()
        finally:
            kill_tree(self.proc)
            self._log.close()


class NodeProcess(ToolProcess):
    """An installed node executable run with ``--ros-args`` (see ``ToolProcess``)."""

    def __init__(self, executable: str, ros_args=(), env=None):
        super().__init__([executable, '--ros-args', *ros_args], env)


_namespaces = itertools.count()


def unique_namespace(prefix: str = 't') -> str:
    """A ROS namespace no other test of this run uses (``/t3``): what a test's nodes and peers
    say there cannot reach another test's, nor come from a node another test left behind."""
    return f'/{prefix}{next(_namespaces)}'


def spin_until(executor, predicate, timeout: float, step: float = 0.05) -> bool:
    """Spin ``executor`` until ``predicate()`` holds or ``timeout`` s pass; returns its value."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        executor.spin_once(timeout_sec=step)
    return True


def wait_until(predicate, timeout: float, step: float = 0.05) -> bool:
    """Poll ``predicate`` (something else spins or works) until it holds or ``timeout`` s pass."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def resend_until(executor, publish, predicate, timeout: float, period: float = 2.0) -> bool:
    """Call ``publish()`` and spin until ``predicate()`` holds, again every ``period`` s (a
    message sent before the DDS match, or lost, is sent anew) until ``timeout`` s pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        publish()
        if spin_until(executor, predicate, min(period, max(deadline - time.monotonic(), 0.0))):
            return True
    return predicate()


def wait_for_peers(executor, endpoints, timeout: float) -> bool:
    """Spin until every publisher has a subscriber and every subscription a publisher."""
    def connected():
        return all((e.get_subscription_count() if hasattr(e, 'get_subscription_count')
                    else e.get_publisher_count()) > 0 for e in endpoints)
    return spin_until(executor, connected, timeout)


def stamp(sec: int, nanosec: int = 0):
    """A ``builtin_interfaces/Time``."""
    return Time(sec=sec, nanosec=nanosec)


def make_test_node(name: str, namespace: str = ''):
    """``(context, node, executor)`` of a private rclpy context for a test module."""
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node(name, namespace=namespace, context=context)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    return context, node, executor


def close_test_node(context, node, executor) -> None:
    """Undo ``make_test_node``."""
    executor.shutdown()
    node.destroy_node()
    rclpy.try_shutdown(context=context)


def declared_parameters(node_name: str, params_file, specs) -> tuple[dict, dict]:
    """``(values, descriptions)`` of ``specs`` declared on a node started with ``params_file``."""
    from perception_ros_glue.node_params import declare_parameters
    context = rclpy.Context()
    rclpy.init(args=['--ros-args', '--params-file', str(params_file)], context=context)
    node = rclpy.create_node(node_name, context=context)
    try:
        values = declare_parameters(node, specs)
        names = [s.name for s in specs]
        return values, dict(zip(names, (d.description for d in node.describe_parameters(names))))
    finally:
        node.destroy_node()
        rclpy.try_shutdown(context=context)


class LifecycleClient:
    """A managed node's lifecycle services (``<node>/get_state``, ``<node>/change_state``), from
    a test node spun by ``executor``."""

    TRANSITIONS = ('configure', 'activate', 'deactivate', 'cleanup', 'shutdown')

    def __init__(self, node, executor, target: str):
        from lifecycle_msgs.srv import ChangeState, GetState
        self.executor = executor
        self._get = node.create_client(GetState, f'{target}/get_state')
        self._change = node.create_client(ChangeState, f'{target}/change_state')

    def wait_for_services(self, timeout: float) -> bool:
        """Spin until both services are there."""
        return spin_until(self.executor, lambda: (self._get.service_is_ready()
                                                  and self._change.service_is_ready()), timeout)

    def _call(self, client, request, timeout: float):
        future = client.call_async(request)
        if not spin_until(self.executor, future.done, timeout):
            raise TimeoutError(f'{client.srv_name} did not answer within {timeout} s')
        return future.result()

    def state(self, timeout: float = 10.0) -> str:
        """Label of the current state ('unconfigured', 'inactive', 'active', 'finalized')."""
        from lifecycle_msgs.srv import GetState
        return self._call(self._get, GetState.Request(), timeout).current_state.label

    def transition(self, name: str, timeout: float = 60.0) -> bool:
        """Request a transition by name (``TRANSITIONS``; 'shutdown' from the current state);
        returns the service's ``success``."""
        from lifecycle_msgs.msg import Transition
        from lifecycle_msgs.srv import ChangeState
        if name == 'shutdown':
            ids = {'unconfigured': Transition.TRANSITION_UNCONFIGURED_SHUTDOWN,
                   'inactive': Transition.TRANSITION_INACTIVE_SHUTDOWN,
                   'active': Transition.TRANSITION_ACTIVE_SHUTDOWN}
            transition_id = ids[self.state()]
        else:
            transition_id = getattr(Transition, f'TRANSITION_{name.upper()}')
        request = ChangeState.Request(transition=Transition(id=transition_id))
        return self._call(self._change, request, timeout).success
