"""A ROS domain of its own for a test run: not the shell's, not a live graph's, not another run's.

``reserve_domain`` tries the domains of ``DOMAINS`` from a per-process starting point and takes
the first one that

- no other run holds: each run keeps an exclusive ``fcntl.flock`` on a per-domain file in the
  temporary folder for as long as it lives (the kernel drops the lock when the process ends,
  however it ends, so a killed run frees its domain);
- no DDS participant of this machine uses: Fast DDS and Cyclone DDS bind the domain's UDP
  discovery ports (7400 + 250 d, and 7410 + 250 d + 2 i for participant i), so a port that
  cannot be bound means a live graph (a vehicle's, another tool's, a node a killed run left
  behind) is in that domain.

An exported ``ROS_DOMAIN_ID`` is the shell's own graph: it is skipped, unless
``PERCEPTION_TEST_KEEP_DOMAIN=1`` asks to run the tests in it (it is still locked).
"""
from __future__ import annotations

import errno
import fcntl
import os
import socket
import tempfile
from pathlib import Path

# 0 is the domain of every unconfigured graph; above 101 Fast DDS's ports of a full domain
# (7400 + 250 d + 250) reach the kernel's ephemeral range (32768 up).
DOMAINS = range(1, 102)
KEEP_ENV = 'PERCEPTION_TEST_KEEP_DOMAIN'
# Participant ids whose discovery port is probed (Fast DDS allows 120 per domain and host).
PARTICIPANTS = 120


def discovery_ports(domain: int) -> list[int]:
    """The UDP ports DDS participants of ``domain`` bind for discovery (RTPS default mapping)."""
    base = 7400 + 250 * domain
    return [base] + [base + 10 + 2 * i for i in range(PARTICIPANTS)]


def port_in_use(port: int) -> bool:
    """True when a UDP socket on this machine holds ``port`` (a plain bind is refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(('0.0.0.0', port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def domain_in_use(domain: int) -> bool:
    """Whether a DDS participant of this machine is in ``domain`` (see the module docstring)."""
    return any(port_in_use(port) for port in discovery_ports(domain))


def lock_path(domain: int, lock_dir=None) -> Path:
    """The file whose flock reserves ``domain``."""
    return Path(lock_dir or tempfile.gettempdir()) / f'perception-ros-domain-{domain}.lock'


def try_lock(domain: int, lock_dir=None):
    """The open, exclusively locked file of ``domain``, or None when another process holds it."""
    path = lock_path(domain, lock_dir)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return os.fdopen(fd, 'r+')


def reserve_domain(environ=None, candidates=DOMAINS, lock_dir=None, start=None):
    """``(domain, lock file)`` of a free domain; keep the file open while the domain is used.

    ``start``: index in ``candidates`` to begin at (default: from the process id, so that runs
    started together try different domains first). RuntimeError when every domain is taken.
    """
    environ = os.environ if environ is None else environ
    exported = environ.get('ROS_DOMAIN_ID', '').strip()
    if environ.get(KEEP_ENV) == '1' and exported:
        lock = try_lock(int(exported), lock_dir)
        if lock is None:
            raise RuntimeError(f'ROS domain {exported} ({KEEP_ENV}=1) is held by another test run')
        return int(exported), lock
    candidates = [d for d in candidates if str(d) != exported]
    start = os.getpid() if start is None else start
    for offset in range(len(candidates)):
        domain = candidates[(start + offset) % len(candidates)]
        lock = try_lock(domain, lock_dir)
        if lock is None:
            continue
        # Checked with the lock held: a run starting now cannot take it in between.
        if not domain_in_use(domain):
            return domain, lock
        lock.close()
    raise RuntimeError(f'no free ROS domain among {len(candidates)}: each is locked by a test run '
                       'or has DDS participants on this machine')
