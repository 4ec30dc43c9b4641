"""perception-process-bag: every frame, all outputs, and byte-identical tracks on a second run."""
import json

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
    assert counts == dict.fromkeys(['/detections', '/detections/masks', '/tracks',
                                    '/tracks/detections', '/tracks/image'], FRAMES)
    # Output stamps are the input's: frame i at START_S + i / FPS.
    assert tracks[0].header.stamp.sec == 1000 and tracks[1].header.stamp.nanosec == 100_000_000


def test_process_bag_refuses_to_overwrite_earlier_results(tmp_path):
    bag = people_bag(tmp_path, frames=2)
    (tmp_path / 'o' / 'output_bag').mkdir(parents=True)
    again = run_tool('perception-process-bag', str(bag), '--out-dir', str(tmp_path / 'o'))
    assert again.returncode == 2
    assert f'{tmp_path / "o" / "output_bag"} exists already' in again.stderr
    assert_no_traceback(again.stderr)
