"""CoastGate: which images the tracker node coasts (detector silent), and which it waits for."""
import pytest

from perception_deepsort.coasting import MAX_PENDING, CoastGate

MS = 10**6  # stamps in ns


def stamps(images):
    return [i.stamp for i in images]


def test_nothing_is_coasted_before_the_detector_was_ever_heard():
    gate = CoastGate(0.5)
    gate.image(1 * MS, 'cam', 0.0)
    assert gate.due(10.0) == [] and gate.due(10.0, detector_present=False) == []


def test_images_answered_by_detections_are_not_coasted():
    gate = CoastGate(0.5)
    for i in range(5):  # a detector that skips frames (newest only) but keeps answering
        gate.image(i * 100 * MS, 'cam', i * 0.1)
        if i % 2 == 0:
            gate.detections(i * 100 * MS, i * 0.1 + 0.05)
    assert gate.due(0.6) == []


def test_a_silent_detector_gets_its_images_coasted_in_order_after_the_wait():
    gate = CoastGate(0.5)
    gate.image(0, 'front', 0.0)
    gate.detections(0, 0.1)
    for i in range(1, 6):
        gate.image(i * 100 * MS, 'front', i * 0.1)
    assert gate.due(0.55) == []  # silent for 0.45 s: not yet
    due = gate.due(0.65)
    assert stamps(due) == [100 * MS] and due[0].frame_id == 'front'
    assert stamps(gate.due(1.05)) == [200 * MS, 300 * MS, 400 * MS, 500 * MS]
    assert gate.due(2.0) == []  # handed out once


def test_without_a_publisher_images_are_coasted_at_once():
    gate = CoastGate(0.5)
    gate.detections(0, 0.0)
    gate.image(100 * MS, 'cam', 0.1)
    assert stamps(gate.due(0.1, detector_present=False)) == [100 * MS]


def test_a_slow_detector_is_waited_for():
    gate = CoastGate(0.5)
    for i in range(5):  # one answer every 2 s
        gate.detections(i * MS, 2.0 * i)
    assert gate.wait_s() == pytest.approx(6.0)
    gate.image(10 * MS, 'cam', 8.0)
    assert gate.due(13.0) == [] and stamps(gate.due(14.1)) == [10 * MS]


def test_bounded_and_cleared():
    gate = CoastGate(0.0)
    gate.detections(0, 0.0)
    for i in range(1, MAX_PENDING + 11):
        gate.image(i, 'cam', 0.0)
    assert gate.counts['coast_dropped'] == 10
    gate.clear()
    assert gate.due(1.0) == []
    with pytest.raises(ValueError):
        CoastGate(-1.0)


def test_frames_skipped_by_the_first_answer_after_a_silence_are_coasted_then():
    gate = CoastGate(1.0)
    gate.detections(0, 0.0)
    gate.image(100 * MS, 'cam', 5.0)  # arrives long after the detector fell silent
    gate.image(200 * MS, 'cam', 5.1)
    gate.image(300 * MS, 'cam', 5.2)
    # The restarted detector answers frame 300 first: 100 and 200 will never get detections.
    assert stamps(gate.detections(300 * MS, 5.5)) == [100 * MS, 200 * MS]
    # While detections flow, frames the detector skips (newest frame only) are not coasted.
    gate.image(400 * MS, 'cam', 5.6)
    gate.image(500 * MS, 'cam', 5.7)
    assert gate.detections(500 * MS, 5.8) == []
