"""MOTChallenge file I/O: round trips, conversions and clear errors."""

import numpy as np
import pytest

from perception_deepsort.mot import io


def test_box_conversion_round_trip():
    xyxy = np.array([[10.0, 20.0, 40.0, 100.0], [0.5, 0.25, 1.5, 2.0]])
    xywh = io.xyxy_to_xywh(xyxy)
    np.testing.assert_allclose(xywh, [[10, 20, 30, 80], [0.5, 0.25, 1.0, 1.75]])
    np.testing.assert_allclose(io.xywh_to_xyxy(xywh), xyxy)


def test_seqinfo_round_trip(tmp_path):
    info = io.SeqInfo(name='SEQ-01', frame_rate=25.0, length=7, width=320, height=240)
    io.write_seqinfo(str(tmp_path), info)
    text = (tmp_path / 'seqinfo.ini').read_text()
    assert 'seqLength=7' in text and 'imWidth=320' in text  # MOTChallenge spelling
    assert io.read_seqinfo(str(tmp_path)) == info


def test_results_and_ground_truth_round_trip(tmp_path):
    boxes = np.array([[10.0, 20.0, 40.0, 100.0], [50.5, 60.25, 70.0, 90.0], [1.0, 2.0, 3.0, 4.0]])
    io.write_results(str(tmp_path / 'res.txt'), [1, 1, 3], [7, 8, 7], boxes, [0.9, 0.5, 0.75])
    first = (tmp_path / 'res.txt').read_text().splitlines()[0]
    assert first == '1,7,10.00,20.00,30.00,80.00,0.9000,-1,-1,-1'
    frames = io.group_by_frame(io.load_table(str(tmp_path / 'res.txt')), 3)
    assert [len(f.ids) for f in frames] == [2, 0, 1]
    np.testing.assert_allclose(frames[0].boxes, boxes[:2], atol=1e-2)
    np.testing.assert_allclose(frames[2].scores, [0.75])
    assert frames[2].ids.tolist() == [7]

    io.write_ground_truth(str(tmp_path / 'gt' / 'gt.txt'), [2, 1], [4, 5], boxes[:2], [0.5, 1.0])
    io.write_seqinfo(str(tmp_path), io.SeqInfo('s', 30.0, 2, 100, 100))
    gt = io.read_ground_truth(str(tmp_path))
    assert gt[0].ids.tolist() == [5] and gt[1].ids.tolist() == [4]
    np.testing.assert_allclose(gt[1].visibility, [0.5])


def test_a_sequence_where_nothing_is_tracked_is_an_empty_file(tmp_path):
    # Once a ValueError (reshape of size 0) with detections on every 3rd frame only.
    path = str(tmp_path / 'res.txt')
    io.write_results(path, [], [], np.zeros((0, 4)), [])
    assert (tmp_path / 'res.txt').read_text() == ''
    assert [len(f.ids) for f in io.group_by_frame(io.load_table(path), 2)] == [0, 0]


def test_detections_ignore_class_column_and_keep_scores(tmp_path):
    (tmp_path / 'det').mkdir()
    (tmp_path / 'det' / 'det.txt').write_text('2,-1,1,2,3,4,0.3\n2,-1,5,5,10,20,0.8\n')
    io.write_seqinfo(str(tmp_path), io.SeqInfo('s', 30.0, 2, 100, 100))
    dets = io.read_detections(str(tmp_path))
    assert len(dets[0].boxes) == 0
    np.testing.assert_allclose(dets[1].boxes, [[1, 2, 4, 6], [5, 5, 15, 25]])
    np.testing.assert_allclose(dets[1].scores, [0.3, 0.8])
    assert dets[1].class_ids.tolist() == [0, 0]


def test_frames_are_read_as_rgb(tmp_path):
    import cv2
    info = io.SeqInfo('s', 30.0, 2, 8, 6)
    (tmp_path / 'img1').mkdir()
    for frame in (1, 2):
        bgr = np.zeros((6, 8, 3), np.uint8)
        bgr[..., 2] = 200  # red in OpenCV's BGR order
        cv2.imwrite(io.frame_path(str(tmp_path), info, frame).replace('.jpg', '.png'), bgr)
    info = io.SeqInfo('s', 30.0, 2, 8, 6, im_ext='.png')
    frames = list(io.iter_frames(str(tmp_path), info))
    assert [f for f, _ in frames] == [1, 2]
    assert frames[0][1].shape == (6, 8, 3) and frames[0][1][0, 0].tolist() == [200, 0, 0]


def test_errors_name_the_file(tmp_path):
    with pytest.raises(io.MotFormatError, match='seqinfo.ini'):
        io.read_seqinfo(str(tmp_path))
    (tmp_path / 'seqinfo.ini').write_text('[Sequence]\nname=x\n')
    with pytest.raises(io.MotFormatError, match='seqLength'):
        io.read_seqinfo(str(tmp_path))
    (tmp_path / 'bad.txt').write_text('1,2,3\n')
    with pytest.raises(io.MotFormatError, match='bad.txt.*columns'):
        io.load_table(str(tmp_path / 'bad.txt'))
    (tmp_path / 'text.txt').write_text('a,b,c,d,e,f,g\n')
    with pytest.raises(io.MotFormatError, match='text.txt'):
        io.load_table(str(tmp_path / 'text.txt'))
    info = io.SeqInfo('s', 30.0, 1, 8, 6)
    with pytest.raises(io.MotFormatError, match='000001.jpg'):
        io.read_frame(str(tmp_path), info, 1)
    (tmp_path / 'empty').mkdir()
    with pytest.raises(io.MotFormatError, match='no MOTChallenge sequence'):
        io.find_sequences(str(tmp_path / 'empty'))
    with pytest.raises(io.MotFormatError, match='not a folder'):
        io.find_sequences(str(tmp_path / 'missing'))
