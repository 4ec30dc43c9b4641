"""How close the walking generator's detections are to a real detector's on real footage.

    python benchmarks/walking_realism.py [--vtest-dets FILE] [--seeds 1 2 3] [--frames 300]

The real side is OpenCV's vtest.avi (768x576, 10 frames/s, a street seen from above) with the
people checkpoint's detections (``perception-detect``, score >= 0.05; computed once and cached
under .cache/ unless --vtest-dets is given). The generated side is mot/synthetic_walking.py's
sequences of the given seeds. vtest has no ground truth, so both are measured the same way,
without ground truth: a motion-only tracker links the detections (confirmed tracks of at least
2 s), and then

- scores: histogram of every box >= 0.1, and boxes per frame above 0.1 / 0.3 / 0.5;
- jitter: the second difference between frames of a linked box's centre and log height
  (centre divided by the box height), median absolute value per box-height band;
- gaps: runs of frames in which a linked person had no detection, their length distribution
  and the share of a person's frames missed;
- motion: speed in box heights per second and the share of linked frames standing still.

Prints a markdown table and writes benchmarks/results/walking_realism.{json,png}.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
VTEST = os.path.join(REPO, '.cache', 'usr', 'share', 'doc', 'opencv-doc', 'examples', 'data', 'vtest.avi')
VTEST_DETS = os.path.join(REPO, '.cache', 'vtest_people_dets.txt')
SCORE_BINS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 1.0]
HEIGHT_BANDS = [(0, 80), (80, 120), (120, 1000)]
GAP_BINS = [(1, 1), (2, 2), (3, 4), (5, 9), (10, 10 ** 6)]
STANDING = 0.1  # box heights per second


def vtest_detections(path):
    """Per-frame (boxes, scores) of the people checkpoint on vtest.avi (detected once, cached)."""
    if not os.path.isfile(path):
        if not os.path.isfile(VTEST):
            sys.path.insert(0, os.path.join(REPO, 'perception_bringup'))
            from perception_bringup.vtest import fetch_vtest
            fetch_vtest(os.path.join(REPO, '.cache'))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        subprocess.run(['perception-detect', '--input', VTEST, '--out', path, '--score-threshold', '0.05'],
                       check=True, cwd=REPO)
    table = np.loadtxt(path, delimiter=',', ndmin=2)
    frames = int(table[:, 0].max())
    out = []
    for f in range(1, frames + 1):
        rows = table[table[:, 0] == f]
        out.append((np.c_[rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6]], rows[:, 6]))
    return out


def generated_detections(root, seeds, frames):
    """{name: per-frame (boxes, scores)} of the walking generator's distinct sequences of the seeds."""
    from perception_deepsort.mot import io, synthetic_walking

    out = {}
    for seed in seeds:
        folder = os.path.join(root, f'{synthetic_walking.sequence_name("distinct", seed)}-{frames}f768')
        if not os.path.isfile(os.path.join(folder, 'seqinfo.ini')):
            synthetic_walking.write_sequence(folder, synthetic_walking.WalkingConfig(
                frames=frames, seed=seed * 1000), progress=False)
        info = io.read_seqinfo(folder)
        out[os.path.basename(folder)] = [(d.boxes, d.scores) for d in io.read_detections(folder, info.length)]
    return out


def linked_tracks(frames, frame_rate):
    """{track id: {frame: (x1, y1, x2, y2, score) of its detection}} of confirmed tracks of >= 2 s (motion only)."""
    from perception_deepsort.config import TrackerConfig
    from perception_deepsort.deep_sort import DeepSort
    from perception_deepsort.track import TrackState

    tracker = DeepSort(TrackerConfig(use_appearance=False, camera_motion=False, relink_lost=False, min_score=0.3,
                                     max_age=int(2 * frame_rate), embedder='none'))
    tracks, confirmed = {}, set()
    for t, (boxes, scores) in enumerate(frames):
        for out in tracker.update(boxes, scores, np.zeros(len(boxes), np.int64), timestamp=t / frame_rate):
            if out.state is not TrackState.TENTATIVE:
                confirmed.add(out.track_id)
            if out.detection_index >= 0:
                tracks.setdefault(out.track_id, {})[t] = np.r_[boxes[out.detection_index], scores[out.detection_index]]
    long_enough = 2 * frame_rate
    return {k: v for k, v in tracks.items() if k in confirmed and max(v) - min(v) + 1 >= long_enough}


def statistics(sequences, frame_rate):
    """The measures of the module docstring over {name: per-frame (boxes, scores)}.

    A linked track is a walking person when its first and last boxes are more than one box
    height apart; the others (people standing all along, clutter) are counted apart.
    """
    scores = np.concatenate([s for frames in sequences.values() for _, s in frames])
    n_frames = sum(len(frames) for frames in sequences.values())
    jitter = {band: {'x': [], 'h': []} for band in HEIGHT_BANDS}
    gaps, spans, missed, speeds, walking_scores, static = [], 0, 0, [], [], []
    for frames in sequences.values():
        for track in linked_tracks(frames, frame_rate).values():
            ts = np.array(sorted(track))
            boxes = np.array([track[t][:4] for t in ts])
            centre = (boxes[:, :2] + boxes[:, 2:]) / 2
            height = boxes[:, 3] - boxes[:, 1]
            if np.linalg.norm(centre[-1] - centre[0]) < np.median(height):
                static.append((ts[-1] - ts[0] + 1, np.median([track[t][4] for t in ts])))
                continue
            walking_scores += [track[t][4] for t in ts]
            spans += ts[-1] - ts[0] + 1
            missed += ts[-1] - ts[0] + 1 - len(ts)
            gaps += (np.diff(ts)[np.diff(ts) > 1] - 1).tolist()
            step = np.diff(ts) == 1
            speeds += (np.linalg.norm(np.diff(centre, axis=0)[step], axis=1) / height[1:][step] * frame_rate).tolist()
            triple = np.flatnonzero(step[:-1] & step[1:]) + 1  # t-1, t, t+1 all detected
            for i in triple:
                second_x = (centre[i + 1, 0] - 2 * centre[i, 0] + centre[i - 1, 0]) / height[i]
                second_h = np.log(height[i + 1]) - 2 * np.log(height[i]) + np.log(height[i - 1])
                for band in HEIGHT_BANDS:
                    if band[0] <= height[i] < band[1]:
                        jitter[band]['x'].append(abs(second_x))
                        jitter[band]['h'].append(abs(second_h))
    high = scores[scores >= 0.1]
    walking_scores = np.array(walking_scores)
    gaps = np.array(gaps)
    speeds = np.array(speeds)
    return {
        'frames': n_frames,
        'score_share': (np.histogram(high, bins=SCORE_BINS)[0] / max(len(high), 1)).tolist(),
        'walking_score_share': (np.histogram(walking_scores, bins=SCORE_BINS)[0]
                                / max(len(walking_scores), 1)).tolist(),
        'score_median': _median(high),
        'walking_score_median': _median(walking_scores),
        'boxes_per_frame': {str(s): float((scores >= s).sum() / n_frames) for s in (0.1, 0.3, 0.5)},
        'jitter_x': {f'{a}-{b}': _median(jitter[(a, b)]['x']) for a, b in HEIGHT_BANDS},
        'jitter_h': {f'{a}-{b}': _median(jitter[(a, b)]['h']) for a, b in HEIGHT_BANDS},
        'jitter_samples': {f'{a}-{b}': len(jitter[(a, b)]['x']) for a, b in HEIGHT_BANDS},
        'gap_share': [float(((gaps >= a) & (gaps <= b)).sum() / max(len(gaps), 1)) for a, b in GAP_BINS],
        'gaps': int(len(gaps)),
        'missed_share': float(missed / max(spans, 1)),
        'speed_median': _median(speeds[speeds >= STANDING]),
        'standing_share': float((speeds < STANDING).mean()) if len(speeds) else 0.0,
        'walking_frames': int(spans),
        'static_tracks_per_100_frames': 100 * len(static) / n_frames,
        'static_frames_share': float(sum(n for n, _ in static) / max(sum(n for n, _ in static) + spans, 1)),
        'static_score_median': _median([m for _, m in static]),
        'gap_lengths': gaps.tolist(),
    }


def _median(values):
    """Median, NaN for no values."""
    return float(np.median(values)) if len(values) else float('nan')


def table(real, generated):
    """Markdown rows: measure, vtest, generated."""
    rows = [('boxes per frame >= 0.1 / 0.3 / 0.5',
             *[' / '.join(f'{s["boxes_per_frame"][k]:.1f}' for k in ('0.1', '0.3', '0.5')) for s in (real, generated)]),
            ('median score: all boxes >= 0.1 / boxes of walking people',
             *[f'{s["score_median"]:.2f} / {s["walking_score_median"]:.2f}' for s in (real, generated)])]
    for i in range(len(SCORE_BINS) - 1):
        rows.append((f'share of boxes scoring {SCORE_BINS[i]:.1f}-{SCORE_BINS[i + 1]:.1f}: all / walking people',
                     *[f'{100 * s["score_share"][i]:.0f}% / {100 * s["walking_score_share"][i]:.0f}%'
                       for s in (real, generated)]))
    for band in real['jitter_x']:
        rows.append((f'jitter of walking people, box height {band} px: centre x / log height '
                     f'(median abs. 2nd difference; samples)',
                     *[f'{s["jitter_x"][band]:.3f} / {s["jitter_h"][band]:.3f} ({s["jitter_samples"][band]})'
                       for s in (real, generated)]))
    rows.append(('share of a walking person\'s frames without a detection',
                 *[f'{100 * s["missed_share"]:.1f}%' for s in (real, generated)]))
    for (a, b), i in zip(GAP_BINS, range(len(GAP_BINS))):
        label = f'{a}' if a == b else (f'{a}-{b}' if b < 10 ** 6 else f'>= {a}')
        rows.append((f'gaps of {label} frames (share of {real["gaps"]} / {generated["gaps"]} gaps)',
                     *[f'{100 * s["gap_share"][i]:.0f}%' for s in (real, generated)]))
    rows.append(('walking speed, box heights per second (median, moving)',
                 *[f'{s["speed_median"]:.2f}' for s in (real, generated)]))
    rows.append(('walking people\'s frames standing still (< 0.1 heights/s)',
                 *[f'{100 * s["standing_share"]:.0f}%' for s in (real, generated)]))
    rows.append(('static linked tracks (clutter, people standing all along): per 100 frames, share of linked '
                 'frames, median score', *[f'{s["static_tracks_per_100_frames"]:.1f}, '
                                           f'{100 * s["static_frames_share"]:.0f}%, {s["static_score_median"]:.2f}'
                                           for s in (real, generated)]))
    lines = ['| measure | vtest.avi, people checkpoint | walking generator |', '|---|---|---|']
    return '\n'.join(lines + [f'| {a} | {b} | {c} |' for a, b, c in rows])


def plot(real, generated, path):
    """Score histogram, jitter and gap lengths side by side."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    centres = np.arange(len(SCORE_BINS) - 1)
    for offset, (label, s) in zip((-0.2, 0.2), (('vtest.avi', real), ('generated', generated))):
        axes[0].bar(centres + offset, s['walking_score_share'], 0.4, label=label)
        axes[1].bar(np.arange(len(HEIGHT_BANDS)) + offset, list(s['jitter_x'].values()), 0.4, label=label)
        axes[2].bar(np.arange(len(GAP_BINS)) + offset, s['gap_share'], 0.4, label=label)
    axes[0].set_xticks(centres, [f'{a:.1f}' for a in SCORE_BINS[:-1]])
    axes[0].set_title('score of walking people\'s boxes (share)')
    axes[1].set_xticks(range(len(HEIGHT_BANDS)), [f'{a}-{b}' for a, b in HEIGHT_BANDS])
    axes[1].set_title('centre-x jitter / height, by box height (px)')
    axes[2].set_xticks(range(len(GAP_BINS)), ['1', '2', '3-4', '5-9', '>=10'])
    axes[2].set_title('gap lengths along a linked person (frames)')
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main(argv=None):
    """Compare and report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--vtest-dets', default=VTEST_DETS, help='MOTChallenge detections of vtest.avi (made if missing)')
    parser.add_argument('--seeds', type=int, nargs='+', default=[1, 2, 3])
    parser.add_argument('--frames', type=int, default=300)
    parser.add_argument('--data-dir', default=os.path.join(tempfile.gettempdir(), 'bench_tracker_data', 'full'))
    parser.add_argument('--out', default=os.path.join(HERE, 'results', 'walking_realism'))
    args = parser.parse_args(argv)
    real = statistics({'vtest': vtest_detections(args.vtest_dets)}, 10.0)
    generated = statistics(generated_detections(args.data_dir, args.seeds, args.frames), 10.0)
    print(table(real, generated))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out + '.json', 'w', encoding='utf8') as f:
        json.dump({'vtest': real, 'generated': generated, 'seeds': args.seeds}, f, indent=1)
    plot(real, generated, args.out + '.png')
    print(f'\nwrote {args.out}.json and .png')
    return 0


if __name__ == '__main__':
    sys.exit(main())
