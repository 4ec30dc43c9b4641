"""perception-run-graph restarts a managed node that was killed (SIGKILL), after the delay."""
import os
import signal
import subprocess
import tempfile
import time

from perception_bringup import graph_spec
from perception_ros_glue.ros_testing import kill_tree, popen_group, stop_group

START_S = 120.0  # two node processes starting on a busy 2-core machine


def _children(pid):
    """{pid: command line} of the direct children of ``pid`` (Linux /proc)."""
    children = {}
    for task in os.listdir(f'/proc/{pid}/task'):
        with open(f'/proc/{pid}/task/{task}/children') as f:
            for child in f.read().split():
                with open(f'/proc/{child}/cmdline', 'rb') as cmd:
                    children[int(child)] = cmd.read().replace(b'\0', b' ').decode()
    return children


def _wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_killed_detector_is_restarted_and_the_graph_keeps_running():
    log = tempfile.NamedTemporaryFile('w+', suffix='.log')
    graph = popen_group(['perception-run-graph', '--backend', 'hog', '--device', 'cpu',
                         '--image-topic', '/respawn_test/image', '--stop-timeout', '60'],
                        stdout=log, stderr=subprocess.STDOUT, text=True)
    output = lambda: open(log.name).read()  # noqa: E731
    try:
        def detector_pid():
            found = [p for p, cmd in _children(graph.pid).items() if 'detector_node' in cmd]
            return found[0] if found else None
        def activations():
            return sum(line.startswith('[detector_node]') and 'now active' in line
                       for line in output().splitlines())
        assert _wait_for(lambda: activations() == 1, START_S), output()
        first = detector_pid()
        os.kill(first, signal.SIGKILL)
        killed = time.monotonic()
        assert _wait_for(lambda: 'restarted detector_node (restart 1)' in output(), 60), output()
        assert time.monotonic() - killed >= graph_spec.RESPAWN_DELAY_S - 0.5
        assert 'detector_node died (exit code -9)' in output()
        second = detector_pid()
        assert second is not None and second != first
        # Up again before the graph is stopped: a Ctrl-C while Python starts is not a clean exit.
        assert _wait_for(lambda: activations() == 2, START_S), output()
        assert graph.poll() is None, output()  # the graph kept running
    finally:
        try:
            stop_group(graph, signal.SIGINT, 90)  # killed with its nodes after that
        finally:
            kill_tree(graph)
            text = output()
            log.close()
    assert graph.returncode == 0, text
