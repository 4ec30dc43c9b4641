"""perception-detect end to end in a subprocess: video and image-folder input, errors."""
import subprocess
import sys

import cv2
import numpy as np
import pytest


def person_frame(shift: int) -> np.ndarray:
    """A 256x192 BGR frame with a dark upright silhouette, moved right by ``shift`` pixels."""
    img = np.full((256, 192, 3), 220, np.uint8)
    x = 80 + shift
    cv2.circle(img, (x, 70), 14, (30, 30, 30), -1)
    cv2.ellipse(img, (x, 130), (24, 50), 0, 0, 360, (30, 30, 30), -1)
    cv2.line(img, (x - 8, 170), (x - 18, 230), (30, 30, 30), 10)
    cv2.line(img, (x + 8, 170), (x + 18, 230), (30, 30, 30), 10)
    return img


def detect(*args):
    """Run perception-detect as a user would."""
    return subprocess.run([sys.executable, '-m', 'perception_maskrcnn.tools.detect', *map(str, args)],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope='module')
def video(tmp_path_factory):
    """An 8-frame mp4 of a walking silhouette."""
    path = tmp_path_factory.mktemp('video') / 'walk.mp4'
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 10, (192, 256))
    for i in range(8):
        writer.write(person_frame(2 * i))
    writer.release()
    return path


def read_rows(path):
    """det.txt as a float table (N, 10)."""
    text = path.read_text().strip()
    return np.array([[float(v) for v in line.split(',')] for line in text.splitlines()]).reshape(-1, 10)


def test_hog_on_video_writes_mot_detections_and_annotated_video(video, tmp_path):
    out, annotated = tmp_path / 'det' / 'det.txt', tmp_path / 'annotated.mp4'
    result = detect('--backend', 'hog', '--input', video, '--out', out, '--score-threshold', '0.0',
                    '--annotated', annotated)
    assert result.returncode == 0, result.stderr
    assert 'OFFLINE FALLBACK' in result.stderr and 'wrote detections of 8 frames' in result.stderr
    rows = read_rows(out)
    assert len(rows) >= 4
    assert set(rows[:, 0]) <= set(range(1, 9)) and rows[:, 0].min() >= 1
    np.testing.assert_array_equal(rows[:, 1], -1)
    np.testing.assert_array_equal(rows[:, 7:], -1)
    assert np.all(rows[:, 4:6] > 0) and np.all((rows[:, 6] >= 0) & (rows[:, 6] <= 1))
    capture = cv2.VideoCapture(str(annotated))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 8
    capture.release()


def test_image_folder_input(tmp_path):
    folder = tmp_path / 'frames'
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f'{i:04d}.png'), person_frame(3 * i))
    out = tmp_path / 'det.txt'
    result = detect('--backend', 'hog', '--input', folder, '--out', out, '--score-threshold', '0.0')
    assert result.returncode == 0, result.stderr
    rows = read_rows(out)
    assert len(rows) >= 1 and set(rows[:, 0]) <= {1, 2, 3}


def test_user_errors_exit_2_with_a_clear_message(tmp_path):
    missing = tmp_path / 'none.mp4'
    result = detect('--backend', 'hog', '--input', missing, '--out', tmp_path / 'det.txt')
    assert result.returncode == 2 and f'input not found: {missing}' in result.stderr
    assert 'Traceback' not in result.stderr
