"""perception-run-graph restarts a managed node that was killed (SIGKILL), after the delay."""
import os
import signal
import subprocess
import tempfile
import time

from perception_bringup import graph_spec

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
    graph = subprocess.Popen(['perception-run-graph', '--backend', 'hog', '--device', 'cpu',
                              '--image-topic', '/respawn_test/image', '--stop-timeout', '60'],
                             stdout=log, stderr=subprocess.STDOUT, text=True)
    output = lambda: open(log.name).read()  # noqa: E731
    try:
        def detector_pid():
            found = [p for p, cmd in _children(graph.pid).items() if 'detector_node' in cmd]
            return found[0] if found else None
        assert _wait_for(lambda: any(line.startswith('[detector_node]') and 'now active' in line
                                     for line in output().splitlines()), START_S), output()
        first = detector_pid()
        os.kill(first, signal.SIGKILL)
        killed = time.monotonic()
        assert _wait_for(lambda: 'restarted detector_node (restart 1)' in output(), 60), output()
        assert time.monotonic() - killed >= graph_spec.RESPAWN_DELAY_S - 0.5
        assert 'detector_node died (exit code -9)' in output()
        second = detector_pid()
        assert second is not None and second != first
        assert graph.poll() is None, output()  # the graph kept running
    finally:
        graph.send_signal(signal.SIGINT)
        try:
            graph.wait(90)
        except subprocess.TimeoutExpired:
            graph.kill()
            graph.wait()
        text = output()
        log.close()
    assert graph.returncode == 0, text
