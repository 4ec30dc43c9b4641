"""The walking generator moves and detects people the way its docstring promises."""

import numpy as np
import pytest

from perception_deepsort.mot import io, synthetic_walking as sw


def _small(**changes):
    """A small, fast scene (half vtest's size, same geometry scaled)."""
    return sw.WalkingConfig(**{'width': 384, 'height': 288, 'focal': 450.0, 'frames': 80, 'seed': 3, **changes})


def _run(cfg):
    """Per-frame (truth, boxes, scores) of a generator run without writing files."""
    gen = sw.WalkingGenerator(cfg)
    out = []
    for t in range(cfg.frames):
        _, truth = gen.render(t)
        out.append((truth, *gen.detect(truth, t)))
    return out


def test_pedestrians_walk_at_walking_speed_stop_and_go_in_groups():
    gen = sw.WalkingGenerator(sw.WalkingConfig(seed=11, people=20))
    speeds, group_gaps = [], []
    for _ in range(600):  # 60 s, motion only
        gen._step()
        speeds += [np.linalg.norm(w.vel) for w in gen.walkers if gen._in_view(w.pos)]
        by_group = {}
        for w in gen.walkers:
            by_group.setdefault(w.group, []).append(w.pos)
        group_gaps += [np.linalg.norm(p[0] - p[1]) for p in by_group.values() if len(p) == 2]
    speeds = np.array(speeds)
    moving = speeds[speeds > 0.5]
    assert 1.1 < np.median(moving) < 1.5  # m/s (Weidmann: 1.34)
    assert 0.05 < (speeds < 0.2).mean() < 0.5  # some stand and wait
    assert len(group_gaps) > 100 and np.median(group_gaps) < 1.2  # pairs walk abreast


def test_detections_are_deterministic_and_well_formed(tmp_path):
    cfg = _small(frames=20)
    a = sw.write_sequence(str(tmp_path / 'a'), cfg, progress=False)
    sw.write_sequence(str(tmp_path / 'b'), cfg, progress=False)
    assert (tmp_path / 'a' / 'det' / 'det.txt').read_text() == (tmp_path / 'b' / 'det' / 'det.txt').read_text()
    assert a.frame_rate == 10.0 and a.length == 20
    dets = io.read_detections(str(tmp_path / 'a'), a.length)
    scores = np.concatenate([d.scores for d in dets])
    assert scores.min() >= cfg.score_threshold and scores.max() < 1
    boxes = np.concatenate([d.boxes for d in dets])
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= cfg.width).all() and (boxes[:, 3] <= cfg.height).all()


@pytest.fixture(scope='module')
def run():
    """One scene's truth and detections (vtest's geometry: people 50-150 px high)."""
    return _run(sw.WalkingConfig(frames=150, seed=3))


def _matched(run):
    """Per (person, frame): box height, centre-x error of its best detection (or NaN: missed), visibility."""
    rows = []
    for t, (truth, boxes, _) in enumerate(run):
        for pid, box, v in zip(truth.ids, truth.boxes, truth.visibility):
            err = np.nan
            if len(boxes):
                lo = np.maximum(box[:2], boxes[:, :2])
                hi = np.minimum(box[2:], boxes[:, 2:])
                inter = np.prod(np.clip(hi - lo, 0, None), axis=1)
                union = np.prod(box[2:] - box[:2]) + np.prod(boxes[:, 2:] - boxes[:, :2], axis=1) - inter
                best = np.argmax(inter / union)
                if inter[best] / union[best] >= 0.5:
                    err = (boxes[best, 0] + boxes[best, 2] - box[0] - box[2]) / 2
            rows.append((pid, t, box[3] - box[1], err, v))
    return np.array(rows)


def test_misses_come_in_runs_and_with_occlusion(run):
    rows = _matched(run)
    visible = rows[rows[:, 4] >= 0.9]
    missed = np.isnan(visible[:, 3])
    assert 0.01 < missed.mean() < 0.3
    order = np.lexsort((visible[:, 1], visible[:, 0]))
    person, frame, miss = visible[order, 0], visible[order, 1], missed[order]
    follows = (person[1:] == person[:-1]) & (frame[1:] == frame[:-1] + 1)
    # A miss makes the next frame's miss much likelier than the average miss rate: runs of misses.
    assert miss[1:][follows & miss[:-1]].mean() > 2 * miss.mean()
    hidden = rows[rows[:, 4] < 0.3]
    assert np.isnan(hidden[:, 3]).mean() > missed.mean()


def test_jitter_grows_with_box_size(run):
    rows = _matched(run)
    rows = rows[~np.isnan(rows[:, 3]) & (rows[:, 4] >= 0.9)]
    low, high = np.quantile(rows[:, 2], [1 / 3, 2 / 3])
    small = np.abs(rows[rows[:, 2] < low, 3])
    large = np.abs(rows[rows[:, 2] >= high, 3])
    assert np.median(large) > 1.15 * np.median(small)  # pixels (constant-pixel jitter gives ~1.0)


def test_clutter_fires_at_one_place_for_long_stretches():
    cfg = _small(frames=100, people=1, clutter=1, flicker_per_frame=0.0, clutter_quality=0.0)
    gen = sw.WalkingGenerator(cfg)
    place = gen.clutter[0][0]
    hits = 0
    for t in range(cfg.frames):
        _, truth = gen.render(t)
        boxes, _ = gen.detect(truth, t)
        hits += any(np.abs(b - place).max() < 0.1 * (place[3] - place[1]) for b in boxes)
    assert hits > 50


def test_perception_make_mot_offers_the_walking_scene(tmp_path, capsys):
    from perception_deepsort.mot import synthetic
    assert synthetic.main(['--out', str(tmp_path), '--scene', 'walking', '--frames', '3', '--seed', '2']) == 0
    folder = tmp_path / 'WALK-DISTINCT-S2000'
    assert capsys.readouterr().out.strip() == str(folder)
    info = io.read_seqinfo(str(folder))
    assert (info.width, info.height, info.frame_rate, info.length) == (768, 576, 10.0, 3)
