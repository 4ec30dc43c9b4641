"""Bags cut short (a copy that stopped, a recording killed by a crash or power loss): the bag
tools end with one clear line naming the bag and exit code 2, never a traceback.

The files are really truncated (their bytes cut), not given bad metadata. Cut near the end, a
.db3 still opens and breaks off while its messages are read; an .mcap loses its footer and
fails to open; cut in the middle both fail to open."""
import re

import pytest

from perception_bringup.testing import assert_no_traceback, make_bag, run_tool

# (storage, video-to-bag options, data file suffix)
STORAGES = {'db3': ((), '.db3'), 'mcap': (('--storage', 'mcap'), '.mcap')}


def truncated_bag(tmp_path, storage, share):
    """A 12-frame bag whose data file keeps only ``share`` of its bytes."""
    extra, suffix = STORAGES[storage]
    bag = make_bag(tmp_path, name=f'{storage}_bag', frames=12, extra=extra)
    data = next(bag.glob(f'*{suffix}'))
    size = data.stat().st_size
    with open(data, 'r+b') as f:
        f.truncate(int(size * share))
    return bag


@pytest.mark.parametrize('share', [0.5, 0.99])
@pytest.mark.parametrize('storage', sorted(STORAGES))
def test_bag_play_names_a_truncated_bag(tmp_path, storage, share):
    bag = truncated_bag(tmp_path, storage, share)
    play = run_tool('perception-bag-play', str(bag), '--rate', '0', '--quiet')
    assert play.returncode == 2, play.stdout + play.stderr
    assert f'perception-bag-play: error: {bag}' in play.stderr
    assert 'truncated or corrupt' in play.stderr or 'not a readable rosbag2' in play.stderr
    assert_no_traceback(play.stdout, play.stderr)


@pytest.mark.parametrize('storage', sorted(STORAGES))
def test_process_bag_names_a_truncated_bag(tmp_path, storage):
    bag = truncated_bag(tmp_path, storage, 0.99)
    run = run_tool('perception-process-bag', str(bag), '--out-dir', str(tmp_path / 'out'),
                   '--backend', 'hog', '--device', 'cpu', timeout=180)
    assert run.returncode == 2, run.stdout + run.stderr
    assert f'perception-process-bag: error: {bag}' in run.stderr
    assert_no_traceback(run.stdout, run.stderr)


def test_a_db3_cut_near_its_end_says_how_far_it_could_be_read(tmp_path):
    bag = truncated_bag(tmp_path, 'db3', 0.99)
    play = run_tool('perception-bag-play', str(bag), '--rate', '0', '--quiet')
    assert play.returncode == 2
    read = re.search(rf'{re.escape(str(bag))}: unreadable after (\d+) messages, the file is '
                     'truncated or corrupt', play.stderr)
    assert read and 0 < int(read.group(1)) < 12, play.stderr
