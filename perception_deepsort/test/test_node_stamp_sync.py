"""StampSync: pairing by stamp, motion-only fallback on timeout, bounded buffers with counters."""
import pytest

from perception_deepsort.stamp_sync import StampSync


def test_complete_frames_come_out_at_once_whatever_the_arrival_order():
    sync = StampSync(('image', 'masks'), buffer_size=4, timeout_s=1.0)
    sync.add('image', 1, 'img1', now=0.0)           # image before its detections
    sync.add_primary(1, 'det1', now=0.1)
    assert sync.pop_ready(0.1) == []                 # masks still missing
    sync.add('masks', 1, 'mask1', now=0.2)
    [frame] = sync.pop_ready(0.2)
    assert (frame.stamp, frame.primary) == (1, 'det1')
    assert frame.parts == {'image': 'img1', 'masks': 'mask1'}
    assert not sync.counts


def test_a_frame_whose_image_never_arrives_is_released_after_the_timeout():
    sync = StampSync(('image',), buffer_size=4, timeout_s=0.5)
    sync.add_primary(7, 'det7', now=10.0)
    assert sync.pop_ready(10.4) == []
    [frame] = sync.pop_ready(10.5)
    assert frame.parts == {'image': None}
    assert sync.counts['missing_image'] == 1


def test_a_lost_image_releases_the_head_at_once_and_in_order():
    sync = StampSync(('image', 'masks'), buffer_size=4, timeout_s=0.5)
    sync.add_primary(1, 'a', now=0.0)
    sync.add_primary(2, 'b', now=0.1)
    sync.add('image', 2, 'img2', now=0.1)
    sync.add('masks', 1, 'mask1', now=0.1)
    sync.add('masks', 2, 'mask2', now=0.1)
    # img2 came after img1 would have: img1 is lost, a goes out now, before b.
    assert [f.primary for f in sync.pop_ready(0.2)] == ['a', 'b']
    assert sync.counts['missing_image'] == 1


def test_frames_keep_their_order_behind_an_incomplete_head():
    sync = StampSync(('image', 'masks'), buffer_size=4, timeout_s=0.5)
    sync.add_primary(1, 'a', now=0.0)
    sync.add_primary(2, 'b', now=0.1)
    sync.add('image', 2, 'img2', now=0.1)            # image 1 lost, but masks 1 may still come
    sync.add('image', 3, 'img3', now=0.1)
    assert sync.pop_ready(0.2) == []                 # a waits for its masks, b behind it
    assert [f.primary for f in sync.pop_ready(0.5)] == ['a']
    assert sync.counts['missing_masks'] == 1 and sync.counts['missing_image'] == 1


def test_a_newer_image_ends_the_wait_for_a_lost_one():
    sync = StampSync(('image',), buffer_size=4, timeout_s=10.0)
    sync.add_primary(5, 'det5', now=0.0)
    sync.add('image', 6, 'img6', now=0.05)           # img5 was dropped (best effort)
    [frame] = sync.pop_ready(0.05)
    assert frame.parts == {'image': None} and sync.counts['missing_image'] == 1


def test_an_image_from_before_a_bag_loop_does_not_end_the_wait():
    sync = StampSync(('image',), buffer_size=4, timeout_s=1.0)
    sync.add('image', 100, 'img100', now=0.0)
    sync.add_primary(100, 'det100', now=0.0)
    sync.pop_ready(0.0)
    sync.add('image', 3, 'img3', now=1.0)            # looped: stamps restart
    sync.add_primary(4, 'det4', now=1.0)             # its image is still on its way
    assert sync.pop_ready(1.0) == []


def test_only_expected_streams_are_waited_for():
    sync = StampSync(('image', 'masks'), timeout_s=5.0)
    sync.add_primary(3, 'det', now=0.0)
    sync.add('image', 3, 'img', now=0.0)
    [frame] = sync.pop_ready(0.0, expected=['image'])  # nobody publishes masks
    assert frame.parts == {'image': 'img', 'masks': None}
    assert 'missing_masks' not in sync.counts


def test_unmatched_images_are_bounded_and_counted():
    sync = StampSync(('image',), buffer_size=3, timeout_s=1.0)
    for stamp in range(10):                          # the detector skipped these frames
        sync.add('image', stamp, f'img{stamp}', now=0.0)
    assert sync.counts['unused_image'] == 7
    sync.add_primary(8, 'det8', now=0.0)
    [frame] = sync.pop_ready(0.0)
    assert frame.parts['image'] == 'img8'
    assert sync.counts['unused_image'] == 8          # img7 can no longer be used


def test_too_many_waiting_detections_are_released_incomplete():
    sync = StampSync(('image',), buffer_size=2, timeout_s=100.0)
    for stamp in range(3):
        sync.add_primary(stamp, stamp, now=0.0)
    assert [f.primary for f in sync.pop_ready(0.0)] == [0]
    assert len(sync) == 2 and sync.counts['missing_image'] == 1


def test_stamps_going_backwards_still_pair():
    sync = StampSync(('image',), buffer_size=4, timeout_s=1.0)
    sync.add_primary(100, 'late', now=0.0)
    sync.add('image', 100, 'img100', now=0.0)
    sync.pop_ready(0.0)
    sync.add('image', 5, 'img5', now=1.0)            # bag looped
    sync.add_primary(5, 'early', now=1.0)
    [frame] = sync.pop_ready(1.0)
    assert frame.parts['image'] == 'img5'


def test_clear_counts_what_it_drops():
    sync = StampSync(('image',))
    sync.add_primary(1, 'd', now=0.0)
    sync.add('image', 2, 'i', now=0.0)
    sync.clear()
    assert len(sync) == 0
    assert sync.counts['unused_primary'] == 1 and sync.counts['unused_image'] == 1


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match='buffer size'):
        StampSync(('image',), buffer_size=0)
    with pytest.raises(ValueError, match='timeout'):
        StampSync(('image',), timeout_s=-1)
