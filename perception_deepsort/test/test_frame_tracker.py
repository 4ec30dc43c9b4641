"""FrameTracker: tracks for every camera frame, late detections fused at their own stamp."""
import numpy as np

from perception_deepsort.config import TrackerConfig
from perception_deepsort.deep_sort import TrackState, confirmed_tracks
from perception_deepsort.frame_tracker import FUSED, TRACKS, FrameTracker, track_offline
from perception_ros_glue.detections import Detections, InstanceMasks, crop_mask

FPS = 30.0
W, H = 320, 240
NAMES = ['person']


def stamp(frame):
    """Stamp in ns of a 30 Hz frame."""
    return int(round(frame / FPS * 1e9))


def scene(frame, turn=None, speed=2):
    """Two textured people walking (one right, one left, ``speed`` px a frame) on a textured
    wall; from frame ``turn`` on they walk back."""
    rng = np.random.default_rng(0)
    image = np.repeat(rng.integers(60, 120, (H // 4, W // 4, 1), dtype=np.uint8), 4, axis=0)
    image = np.repeat(image, 4, axis=1).repeat(3, axis=2).copy()
    x = speed * (frame if turn is None or frame <= turn else 2 * turn - frame)
    boxes = np.array([[40 + x, 60, 70 + x, 140], [250 - x, 80, 280 - x, 160]], dtype=float)
    for i, (x1, y1, x2, y2) in enumerate(boxes.astype(int)):
        patch = np.random.default_rng(10 + i).integers(0, 255, (y2 - y1, x2 - x1, 3), dtype=np.uint8)
        image[y1:y2, x1:x2] = patch
    return image, boxes


def detections(frame, masks=False):
    """Both people's detections (with their masks as a separate message when asked)."""
    image, boxes = scene(frame)
    dets = Detections(boxes, [0.9, 0.9], [0, 0], NAMES)
    if not masks:
        return dets, None
    full = np.zeros((H, W), bool)
    windows, origins = [], []
    for x1, y1, x2, y2 in boxes.astype(int):
        full[:] = False
        full[y1:y2, x1 + 5:x2 - 5] = True
        window, origin = crop_mask(full, (x1, y1, x2, y2))
        windows.append(window)
        origins.append(origin)
    return dets, InstanceMasks(windows, np.array(origins), (W, H))


def recording(frames, every=1, turn=None, speed=2):
    """track_offline frames: both people, detected on every ``every``-th frame."""
    for f in range(frames):
        image, boxes = scene(f, turn, speed)
        dets = Detections(boxes, [0.9, 0.9], [0, 0], NAMES) if f % every == 0 else None
        yield stamp(f), 'cam', image, dets, None, None


def engine(**changes):
    """A FrameTracker without appearance (the scene's people look alike to histograms anyway)."""
    tracker = FrameTracker(TrackerConfig(use_appearance=False, **changes))
    tracker.expect_masks = False
    return tracker


def published(tracker, frames, every=1, delay=0, turn=None, speed=2):
    """{frame: (TRACKS tracks, [FUSED outputs])} of a recording driven through the engine."""
    out = {}
    for k, outputs in track_offline(tracker, recording(frames, every, turn, speed), delay):
        [tracks] = [o.tracks for o in outputs if o.kind == TRACKS]
        out[k] = (tracks, [o for o in outputs if o.kind == FUSED])
    return out


def key(tracks):
    """Everything a frame's tracks say, exactly."""
    return [(t.track_id, t.state, t.hits, t.predicted, t.box.tobytes(), t.velocity) for t in tracks]


def test_every_frame_gets_tracks_and_sparse_detections_confirm_tracks():
    # Detections on every 3rd frame only: frames without detections are no misses, so tracks
    # are confirmed after n_init detection frames and followed (predicted) in between.
    run = published(engine(), 30, every=3)
    assert len(run) == 30
    ids = set()
    for k, (tracks, _) in run.items():
        shown = confirmed_tracks(tracks)
        assert all(t.predicted == (k % 3 != 0) for t in tracks)
        if k >= 6:
            assert len(shown) == 2, (k, tracks)
            ids |= {t.track_id for t in shown}
    assert len(ids) == 2
    # Followed between detections: a predicted box stays on its person.
    tracks, _ = run[28]
    _, truth = scene(28)
    for t in confirmed_tracks(tracks):
        assert np.abs(t.box - truth).sum(axis=1).min() < 6.0


def test_late_detections_decide_as_if_they_had_come_in_time():
    # The same recording with the detections 2 frames late: every fused frame equals the frame
    # tracked in time, and every frame published after the fusion too (the state was replayed).
    in_time = published(engine(), 24, every=3, delay=0)
    late_engine = engine()
    late = published(late_engine, 24, every=3, delay=2)
    for k, (tracks, fused) in late.items():
        if k >= 2 and (k - 2) % 3 == 0:  # the detections of frame k - 2 just came
            [output] = fused
            assert output.stamp == stamp(k - 2) and output.late_frames == 2
            assert key(output.tracks) == key(in_time[k - 2][0])
        if k % 3 == 2:  # published after the fusion: as in time
            assert key(tracks) == key(in_time[k][0])
    counts = late_engine.all_counts()
    # Frames 0, 3, .., 21 detected, each fused 2 frames late: itself and the next one replayed.
    assert counts['fused_late'] == 8 and counts['frames_detected'] == 8
    assert counts['replayed_frames'] == 8 and counts['frames'] == 24


def test_detections_before_their_image_wait_for_it_and_images_never_seen_do_not_block():
    tracker = engine()
    dets, _ = detections(0)
    assert tracker.detections(stamp(0), 'cam', dets, now=0.0) == []  # waits for its image
    outputs = tracker.image(stamp(0), 'cam', scene(0)[0], now=0.01)
    assert [o.kind for o in outputs] == [TRACKS, FUSED] and not outputs[0].tracks[0].predicted
    # Frame 1's image is lost: its detections are tracked as a frame of their own once a newer
    # image comes, before it.
    tracker.detections(stamp(1), 'cam', detections(1)[0], now=0.02)
    outputs = tracker.image(stamp(2), 'cam', scene(2)[0], now=0.1)
    assert [(o.kind, o.stamp) for o in outputs] == [(TRACKS, stamp(1)), (FUSED, stamp(1)),
                                                    (TRACKS, stamp(2))]
    # Detections newer than every image wait sync_timeout_s, then are a frame of their own.
    tracker.detections(stamp(3), 'cam', detections(3)[0], now=0.2)
    assert tracker.poll(now=0.3) == []
    assert [o.kind for o in tracker.poll(now=0.45)] == [TRACKS, FUSED]
    assert tracker.all_counts()['frames_without_image'] == 2
    # Without an image stream every detections message is a frame at once.
    tracker.expect_images = False
    assert [o.kind for o in tracker.detections(stamp(4), 'cam', detections(4)[0], now=0.5)] == \
        [TRACKS, FUSED]


def test_repeated_stamps_too_late_detections_and_time_going_back():
    tracker = engine(fusion_frames=5)
    run = list(track_offline(tracker, recording(10)))
    ids = {t.track_id for t in run[-1][1][0].tracks}
    assert tracker.image(stamp(9), 'cam', scene(9)[0], 1.0) == []  # the same image again
    assert tracker.detections(stamp(9), 'cam', detections(9)[0], 1.0) == []
    assert tracker.detections(stamp(2), 'cam', detections(2)[0], 1.0) == []  # 7 frames late
    counts = tracker.all_counts()
    assert counts['duplicate_images'] == 1 and counts['duplicate_detections'] == 1
    assert counts['detections_too_late'] == 1
    # The bag looped: back to frame 0, new tracks with new ids.
    for f in range(3):
        tracker.detections(stamp(f), 'cam', detections(f)[0], 2.0)
        outputs = tracker.image(stamp(f), 'cam', scene(f)[0], 2.0)
    assert tracker.all_counts()['resets'] == 1
    assert min(t.track_id for t in outputs[0].tracks) > max(ids)


def test_masks_pair_by_stamp_and_follow_their_track_between_detections():
    tracker = FrameTracker(TrackerConfig(use_appearance=False, n_init=1))
    dets, masks = detections(0, masks=True)
    tracker.detections(stamp(0), 'cam', dets, now=0.0)
    [output] = tracker.image(stamp(0), 'cam', scene(0)[0], now=0.0)  # the detections wait for
    assert output.tracks == []                                       # their masks, not the image
    outputs = tracker.masks(stamp(0), masks, now=0.01)
    [fused] = [o for o in outputs if o.kind == FUSED]
    assert all(t.mask is not None and t.mask[0].shape == (80, 30) for t in fused.tracks)
    # Predicted frames: each mask moves with its track's box.
    for f in (1, 2):
        [output] = tracker.image(stamp(f), 'cam', scene(f)[0], now=0.02)
    for track in output.tracks:
        window, origin = track.mask
        assert abs(origin[0] - track.box[0]) <= 1 and window.shape[1] >= 29
    # Masks that do not fit their detections are dropped, the detections kept.
    tracker.detections(stamp(3), 'cam', dets, now=0.1)
    wrong = InstanceMasks(masks.windows[:1], masks.origins[:1], (W, H))
    assert tracker.masks(stamp(3), wrong, now=0.1) == []  # then they wait for their image
    assert tracker.all_counts()['masks_mismatched'] == 1
    [output, fused] = tracker.image(stamp(3), 'cam', scene(3)[0], now=0.1)
    assert all(t.mask is not None for t in fused.tracks)  # the masks of frame 0, moved
    # Detections whose masks never come go on without them after sync_timeout_s.
    tracker.detections(stamp(4), 'cam', detections(4)[0], now=0.2)
    assert tracker.poll(now=0.3) == [] and tracker.poll(now=0.45) == []  # then waits for the image
    assert tracker.all_counts()['missing_masks'] == 1


def test_a_detector_outage_shows_tracks_for_max_predicted_s_and_keeps_their_ids():
    tracker = engine(max_predicted_s=0.5)
    run = list(track_offline(tracker, recording(6, speed=1)))
    ids = {t.track_id for t in confirmed_tracks(run[-1][1][0].tracks)}
    # 2 s without detections (the detector restarts): shown for 0.5 s, then LOST.
    shown = []
    for f in range(6, 66):
        [output] = tracker.image(stamp(f), 'cam', scene(f, speed=1)[0], 1.0)
        shown.append(len(confirmed_tracks(output.tracks)))
        assert all(t.predicted for t in output.tracks)
    assert shown[:14] == [2] * 14 and shown[-1] == 0
    assert {t.state for t in output.tracks} == {TrackState.LOST}
    image, boxes = scene(66, speed=1)
    tracker.detections(stamp(66), 'cam', Detections(boxes, [0.9, 0.9], [0, 0], NAMES), 2.0)
    outputs = tracker.image(stamp(66), 'cam', image, 2.0)
    assert {t.track_id for t in confirmed_tracks(outputs[0].tracks)} == ids


def test_box_flow_keeps_boxes_on_their_people_where_prediction_overshoots():
    def error(**changes):
        # Detections on every 6th frame; at frame 20 the people turn round, which a constant-
        # velocity prediction cannot know until the next detections.
        run = published(engine(**changes), 36, every=6, turn=20, speed=1)
        errors = []
        for k in range(21, 24):
            _, truth = scene(k, turn=20, speed=1)
            errors += [np.abs(t.box - truth).sum(axis=1).min()
                       for t in confirmed_tracks(run[k][0])]
        return np.mean(errors)
    with_flow, without = error(box_flow=True), error(box_flow=False)
    assert with_flow < 5.0 and without > 1.5 * with_flow, (with_flow, without)
