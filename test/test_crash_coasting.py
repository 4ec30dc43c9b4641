"""Surviving a detector crash: SIGKILL detector_node mid-bag in perception-run-graph (respawn on).

While it is down the tracker keeps publishing tracks for every camera frame, its tracks
followed to each image and marked `predicted` (confirmed for max_predicted_s, then lost); after
the restart detections are fused again and the people tracked before the kill keep their ids."""
import pytest

from perception_bringup.crash_run import crash_during_bag, predicted, stamp_s
from perception_bringup.testing import FPS, START_S, people_bag, running_graph, write_people_config

# The bag (people_bag's seed 3) has HOG find its walker in frames 0-77; played at a quarter of
# its 10 Hz (30 s), the kill after 15 frames and the restart (respawn delay, process start with
# torch's import, model load: about 10 s here, 25 frames) leave the detector frames to find him.
FRAMES = 75
KILL_AFTER = 15
RATE = 0.25


@pytest.mark.slow  # a 75-frame bag at a quarter of its rate and a detector restart: ~45 s
def test_tracker_coasts_through_a_detector_crash_and_keeps_the_ids(tmp_path):
    bag = people_bag(tmp_path, frames=FRAMES)
    config = write_people_config(tmp_path / 'people.yaml')
    with running_graph(config) as graph:
        outage = crash_during_bag(graph, bag, FRAMES, FPS, START_S, KILL_AFTER, RATE)
    print(outage)
    seen = {round((stamp_s(m) - START_S) * FPS) for m in graph.tracks}
    print('frames without tracks:', sorted(set(range(FRAMES)) - seen))
    assert 'restarted detector_node (restart 1)' in graph.output
    # Tracks kept coming for every camera frame, predicted ones while the detector was down ...
    assert outage.frames_with_tracks == FRAMES, outage
    assert outage.frames_without_detections >= 3 and outage.predicted_messages >= 3, outage
    coasted = [o for m in graph.tracks for o in m.objects if o.predicted]
    assert all(not o.has_mask and o.time_since_update > 0 for o in coasted)
    # Shown (confirmed) for max_predicted_s (1 s) after the last match, then lost.
    assert {o.state for o in coasted if o.time_since_update > 1.01} <= {0, 2}
    # ... one message per frame, in stamp order.
    stamps = [stamp_s(m) for m in graph.tracks]
    assert stamps == sorted(stamps)
    # Matching resumed after the restart, and the people tracked before kept their ids.
    assert outage.ids_before >= 1 and outage.kept_share >= 0.9, outage
    assert outage.recovery_s < 60, outage
