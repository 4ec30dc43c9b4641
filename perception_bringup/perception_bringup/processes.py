"""Stopping child processes in order: SIGINT, then SIGTERM, then SIGKILL for the ones that hang."""
import signal
import subprocess
import time

# Exit codes of a ROS process that stopped because it was asked to.
CLEAN_EXIT = {0, -signal.SIGINT, 128 + signal.SIGINT}
# Seconds stop_all waits after SIGTERM and after SIGKILL, once the SIGINT timeout has passed.
TERM_WAIT_S = KILL_WAIT_S = 5.0


def worst_stop_s(timeout):
    """Longest stop_all(procs, timeout) can take: what a parent stopping *us* must allow for."""
    return timeout + TERM_WAIT_S + KILL_WAIT_S


def stop_all(procs, timeout):
    """Stop every running process of {name: Popen}; returns the names that needed SIGTERM/SIGKILL."""
    forced = []
    steps = ((signal.SIGINT, timeout), (signal.SIGTERM, TERM_WAIT_S), (signal.SIGKILL, KILL_WAIT_S))
    for sig, wait_s in steps:
        running = [n for n, p in procs.items() if p.poll() is None]
        if not running:
            break
        if sig != signal.SIGINT:
            forced += [n for n in running if n not in forced]
        for name in running:
            procs[name].send_signal(sig)
        deadline = time.monotonic() + wait_s
        for name in running:
            try:
                procs[name].wait(max(deadline - time.monotonic(), 0.01))
            except subprocess.TimeoutExpired:
                pass
    return forced
