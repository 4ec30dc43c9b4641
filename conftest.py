"""Shared pytest set-up: every test run talks DDS on loopback only, in a ROS domain of its own,
and leaves no process behind."""
import os

# pytest's importlib mode names test modules after their path (perception_maskrcnn.test.x) and
# would register the ROS package folders as empty namespace packages; import the real
# (colcon-installed) packages first so tests see them.
import perception_bringup  # noqa: F401
import perception_deepsort  # noqa: F401
import perception_maskrcnn  # noqa: F401
import perception_ros_glue  # noqa: F401
import pytest

from perception_ros_glue import ros_domain
from perception_ros_glue.ros_testing import kill_descendants

# A domain no live graph and no other test run uses (ros_domain: an exported ROS_DOMAIN_ID is
# skipped unless PERCEPTION_TEST_KEEP_DOMAIN=1), held by a lock for as long as this run lives.
_DOMAIN, _DOMAIN_LOCK = ros_domain.reserve_domain()
os.environ['ROS_DOMAIN_ID'] = str(_DOMAIN)
if os.environ.get(ros_domain.KEEP_ENV) != '1':
    # Keep test traffic on this machine and away from any other ROS graph on the network.
    os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    os.environ['ROS_STATIC_PEERS'] = ''
# Torch on a 2-core machine: more threads than cores only adds contention.
os.environ.setdefault('OMP_NUM_THREADS', '2')
# OpenMP threads that spin at barriers starve each other on a busy machine (a shared CI runner,
# a CPU burner): re-ID training took 29.9 s for 3 epochs with 2 spinning threads and 4.3 s
# passive, as with 1 thread. Set before any test imports torch (its OpenMP reads it at load).
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')


def pytest_report_header(config):
    return f'ROS domain {_DOMAIN} (reserved: {ros_domain.lock_path(_DOMAIN)})'


def pytest_addoption(parser):
    parser.addoption('--reverse', action='store_true',
                     help='run the collected tests in reverse order (shows tests that depend on '
                          'an earlier one)')


def pytest_collection_modifyitems(config, items):
    if config.getoption('--reverse'):
        items.reverse()


@pytest.fixture(autouse=True, scope='module')
def no_leftover_processes():
    """After a test module (its fixtures torn down): any process it started and left running is
    killed, and the module fails naming it (a leftover node would talk to later tests)."""
    yield
    leftovers = kill_descendants(os.getpid())
    assert not leftovers, f'processes left running by this module, killed: {leftovers}'
