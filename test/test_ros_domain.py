"""The ROS domain a test run takes (conftest.py, perception_ros_glue.ros_domain): never one that
another run holds, a live DDS participant of this machine is in, or the shell exported."""
import os

import rclpy

from perception_ros_glue import ros_domain


def _two_free_domains(lock_dir):
    """Two domains without participants here, chosen with locks in a folder of this test."""
    first, lock_a = ros_domain.reserve_domain({}, lock_dir=lock_dir)
    second, lock_b = ros_domain.reserve_domain({}, lock_dir=lock_dir)
    lock_a.close()
    lock_b.close()
    assert first != second
    return first, second


def test_this_run_holds_its_domain_and_it_is_not_the_exported_one():
    domain = int(os.environ['ROS_DOMAIN_ID'])
    assert domain in ros_domain.DOMAINS
    assert ros_domain.try_lock(domain) is None, 'the domain of this run is locked by it'


def test_a_domain_another_run_holds_is_skipped(tmp_path):
    first, second = _two_free_domains(tmp_path)
    held = ros_domain.try_lock(first, tmp_path)  # another run (flock: per open file)
    try:
        domain, lock = ros_domain.reserve_domain({}, [first, second], tmp_path, start=0)
        lock.close()
        assert domain == second
    finally:
        held.close()
    domain, lock = ros_domain.reserve_domain({}, [first, second], tmp_path, start=0)
    lock.close()
    assert domain == first  # released: free again


def test_a_domain_with_a_live_participant_is_skipped(tmp_path):
    first, second = _two_free_domains(tmp_path)
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=first)  # a live graph in `first`, holding no lock
    node = rclpy.create_node('live_graph', context=context)
    try:
        assert ros_domain.domain_in_use(first)
        domain, lock = ros_domain.reserve_domain({}, [first, second], tmp_path, start=0)
        lock.close()
        assert domain == second
    finally:
        node.destroy_node()
        rclpy.try_shutdown(context=context)
    assert not ros_domain.domain_in_use(first)


def test_the_exported_domain_is_skipped_unless_kept(tmp_path):
    first, second = _two_free_domains(tmp_path)
    shell = {'ROS_DOMAIN_ID': str(first)}
    domain, lock = ros_domain.reserve_domain(shell, [first, second], tmp_path, start=0)
    lock.close()
    assert domain == second
    kept, lock = ros_domain.reserve_domain({**shell, ros_domain.KEEP_ENV: '1'}, [second],
                                           tmp_path)
    lock.close()
    assert kept == first
