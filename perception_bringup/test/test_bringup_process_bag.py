"""perception-process-bag: every frame, all outputs, and byte-identical tracks on a second run."""
import json

import pytest
from perception_msgs.msg import TrackedObjectArray
from rclpy.serialization import deserialize_message

from perception_bringup import bag_io
from perception_bringup.testing import assert_no_traceback, people_bag, run_tool, write_people_config

FRAMES = 8


def test_process_bag_twice_gives_identical_tracks_and_every_output(tmp_path):
    bag = people_bag(tmp_path, frames=FRAMES)
    config = write_people_config(tmp_path / 'people.yaml', qos='sensor_data')
    runs = [run_tool('perception-process-bag', str(bag), '--out-dir', str(tmp_path / name),
                     '--config', str(config), timeout=240) for name in ('a', 'b')]
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert_no_traceback(run.stderr)
    first, second = ((tmp_path / name / 'tracks.txt').read_bytes() for name in ('a', 'b'))
    assert first and first == second
    summary = json.loads((tmp_path / 'a' / 'summary.json').read_text())
    assert summary['frames'] == FRAMES and summary['detections'] >= FRAMES - 1
    assert summary['tracks'] >= 1 and 'hog' in summary['detector']
    assert (tmp_path / 'a' / 'tracks.mp4').stat().st_size > 1000
    reader = bag_io.open_reader(tmp_path / 'a' / 'output_bag')
    counts = {c.topic: c.msgcount for c in reader.connections}
    tracks = [deserialize_message(raw, TrackedObjectArray)
              for c, _, raw in reader.messages() if c.topic == '/tracks']
    reader.close()
    assert counts == dict.fromkeys(['/detections', '/detections/masks', '/tracks', '/tracks/fused',
                                    '/tracks/detections', '/tracks/image'], FRAMES)
    # Output stamps are the input's: frame i at START_S + i / FPS.
    assert tracks[0].header.stamp.sec == 1000 and tracks[1].header.stamp.nanosec == 100_000_000


def test_camera_rate_mode_tracks_every_frame_between_late_detections(tmp_path):
    # The detector answers frames 0, 3, 6 of 8, each 2 frames late (as live behind a slow
    # detector): every frame gets its tracks, those between detections predicted.
    bag = people_bag(tmp_path, frames=FRAMES)
    config = write_people_config(tmp_path / 'people.yaml', qos='sensor_data', n_init=1)
    run = run_tool('perception-process-bag', str(bag), '--out-dir', str(tmp_path / 'live'),
                   '--config', str(config), '--camera-rate', '--detect-every', '3',
                   '--detection-delay', '2', timeout=240)
    assert run.returncode == 0, run.stderr
    summary = json.loads((tmp_path / 'live' / 'summary.json').read_text())
    assert summary['frames'] == FRAMES and summary['camera_rate'] and summary['detect_every'] == 3
    assert summary['frames_detected'] == 2 and summary['fused_late'] == 2  # frame 6: after the end
    reader = bag_io.open_reader(tmp_path / 'live' / 'output_bag')
    counts = {c.topic: c.msgcount for c in reader.connections}
    tracks = [deserialize_message(raw, TrackedObjectArray)
              for c, _, raw in reader.messages() if c.topic == '/tracks']
    reader.close()
    assert counts['/tracks'] == FRAMES and counts['/detections'] == 3 and counts['/tracks/fused'] == 2
    # From frame 2 on (the detections of frame 0 fused) the walker is shown on every frame.
    assert all(m.objects and all(o.predicted for o in m.objects) for m in tracks[2:])
    bad = run_tool('perception-process-bag', str(bag), '--out-dir', str(tmp_path / 'bad'),
                   '--detect-every', '3')
    assert bad.returncode == 2 and '--camera-rate' in bad.stderr


def test_process_bag_refuses_to_overwrite_earlier_results(tmp_path):
    bag = people_bag(tmp_path, frames=2)
    (tmp_path / 'o' / 'output_bag').mkdir(parents=True)
    again = run_tool('perception-process-bag', str(bag), '--out-dir', str(tmp_path / 'o'))
    assert again.returncode == 2
    assert f'{tmp_path / "o" / "output_bag"} exists already' in again.stderr
    assert_no_traceback(again.stderr)


@pytest.mark.slow  # a process pool and a Ray instance: ~100 s here
def test_many_bags_in_parallel_locally_and_on_ray_match_each_bag_alone(tmp_path):
    """A folder of bags, a broken bag and a list file: every good bag's tracks are byte-identical
    to processing it alone, on a local pool of 2 and on a local Ray instance with 2 workers; the
    broken bag is reported and the others complete."""
    archive = tmp_path / 'archive'
    archive.mkdir()
    bags = [people_bag(archive, frames=5, name=f'drive{i}') for i in range(2)]
    broken = tmp_path / 'broken'
    broken.mkdir()
    (broken / 'metadata.yaml').write_text('not: a bag\n')
    listing = tmp_path / 'bags.txt'
    listing.write_text('# the afternoon drive\nbroken\n')
    config = write_people_config(tmp_path / 'people.yaml')
    alone = run_tool('perception-process-bag', str(bags[0]), '--out-dir', str(tmp_path / 'alone'),
                     '--config', str(config), '--threads', '1', timeout=240)
    assert alone.returncode == 0, alone.stderr
    for engine in ([], ['--ray-address', 'local']):
        out = tmp_path / ('ray' if engine else 'pool')
        run = run_tool('perception-process-bag', str(archive), str(listing), '--out-dir', str(out),
                       '--config', str(config), '--jobs', '2', '--threads', '1', *engine, timeout=400)
        assert run.returncode == 1, run.stdout + run.stderr  # one bag failed
        assert '1 of 3 bags failed' in run.stderr
        assert_no_traceback(run.stderr, run.stdout)
        summary = json.loads((out / 'batch_summary.json').read_text())
        assert [r.get('input_bag') for r in summary['bags']] == [str(b.resolve()) for b in bags] + [str(broken.resolve())]
        assert 'not a readable rosbag2' in summary['bags'][2]['error']
        assert summary['failed'] == 1 and summary['jobs'] == 2
        table = run.stdout.splitlines()
        assert any(line.startswith('drive0') and line.endswith('ok') for line in table)
        assert any(line.startswith('broken') and 'FAILED' in line for line in table)
        assert (out / 'drive0' / 'tracks.txt').read_bytes() == (tmp_path / 'alone' / 'tracks.txt').read_bytes()
        assert all(r['frames'] == 5 for r in summary['bags'][:2])
    assert (tmp_path / 'pool' / 'drive1' / 'tracks.txt').read_bytes() == \
        (tmp_path / 'ray' / 'drive1' / 'tracks.txt').read_bytes()


@pytest.mark.slow  # starts Ray: ~45 s here
def test_batch_inputs_that_name_nothing_are_user_errors(tmp_path):
    for argv, message in (([str(tmp_path / 'nope*')], 'matches nothing'),
                          ([str(tmp_path)], 'holds no rosbag2'),
                          ([str(tmp_path / 'missing')], 'is not a bag, a folder, a glob or a list file')):
        run = run_tool('perception-process-bag', *argv, '--out-dir', str(tmp_path / 'o'))
        assert run.returncode == 2 and message in run.stderr, run.stderr
        assert_no_traceback(run.stderr)
