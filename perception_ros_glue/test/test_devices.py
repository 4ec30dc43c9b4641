"""Device names: one rule for the detector backends and the re-ID embedders."""
import pytest

from perception_ros_glue.devices import device_name


@pytest.mark.parametrize('device, cuda_devices, expected', [
    ('auto', 0, 'cpu'), (None, 0, 'cpu'), ('auto', 2, 'cuda'), (' CPU ', 2, 'cpu'),
    ('cuda', 1, 'cuda'), ('cuda:1', 2, 'cuda:1')])
def test_device_names(device, cuda_devices, expected):
    assert device_name(device, cuda_devices) == expected


@pytest.mark.parametrize('device, cuda_devices, reason', [
    ('gpu0', 1, "unknown device 'gpu0'"), ('cuda:x', 1, 'unknown device'),
    ('cuda', 0, 'CUDA is not available'), ('cuda:2', 2, 'only 2 CUDA device')])
def test_bad_devices_name_the_problem(device, cuda_devices, reason):
    with pytest.raises(ValueError, match=reason):
        device_name(device, cuda_devices)
