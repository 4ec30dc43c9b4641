"""Shared pytest set-up: every test run talks DDS on loopback only, in its own domain."""
import os
import random

# pytest's importlib mode names test modules after their path (perception_maskrcnn.test.x) and
# would register the ROS package folders as empty namespace packages; import the real
# (colcon-installed) packages first so tests see them.
import perception_bringup  # noqa: F401
import perception_deepsort  # noqa: F401
import perception_maskrcnn  # noqa: F401
import perception_ros_glue  # noqa: F401

# Keep test traffic on this machine and away from any other ROS graph on the network.
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('ROS_DOMAIN_ID', str(random.Random(os.getpid()).randint(1, 100)))
# Torch on a 2-core machine: more threads than cores only adds contention.
os.environ.setdefault('OMP_NUM_THREADS', '2')


def pytest_addoption(parser):
    parser.addoption('--reverse', action='store_true',
                     help='run the collected tests in reverse order (shows tests that depend on '
                          'an earlier one)')


def pytest_collection_modifyitems(config, items):
    if config.getoption('--reverse'):
        items.reverse()
