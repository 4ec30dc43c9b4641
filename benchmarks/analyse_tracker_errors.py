"""Where a tracker's ID switches and missed boxes come from, on bench_tracker.py's sequences.

    python benchmarks/analyse_tracker_errors.py --groups uninformative --seeds 1 2 3 \
        [--trackers SUBSTRING ...] [--data-dir DIR]

Runs the chosen rows of bench_tracker.py (same sequences, detections and embeddings), scores
them with the same MOT17 preprocessing and counts, from motmetrics' event log:

- ID switches by cause: the object is picked up by a **new** track (a fragment: the old
  track was lost over a gap, or the new one was born beside it), by a track that was
  following **another** object (a swap or hand-over), or by an older track of its own that
  had been lost (a **return** to an id it already had); with the gap (frames since the
  object was last matched) as short (<= 5 frames) or long.
- Missed boxes: with **no detection** (IoU >= 0.5, any score the tracker reads), with only a
  **low-score** one, or with a high-score detection the tracker did not report (a track
  **not yet confirmed**: the object's first frames, or **other**: unmatched or lost track).
"""

import argparse
import collections
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_tracker  # noqa: E402

SHORT_GAP = 5


def _iou(a, b):
    """IoU of xywh boxes a (N, 4) and b (M, 4)."""
    a, b = np.asarray(a, float).reshape(-1, 4), np.asarray(b, float).reshape(-1, 4)
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, :2] + a[:, None, 2:], b[None, :, :2] + b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=2)
    union = np.prod(a[:, 2:], 1)[:, None] + np.prod(b[:, 2:], 1)[None, :] - inter
    return inter / np.maximum(union, 1e-9)


def analyse(seq_dir, results, min_score, n_init):
    """Counters of switch causes and miss causes for one sequence."""
    from perception_deepsort.mot import evaluate, io

    data = evaluate._preprocessed({'s': (seq_dir, results)})['s']
    events = evaluate._accumulator(data, 0.5).mot_events.reset_index()
    detections = io.read_detections(seq_dir, data['num_timesteps'])
    switches, misses = collections.Counter(), collections.Counter()
    last_hyp, last_frame, first_frame, hyp_owner, hyp_seen = {}, {}, {}, {}, collections.defaultdict(set)
    for frame, rows in events.groupby('FrameId', sort=True):
        t = frame - 1
        gt_index = {g: i for i, g in enumerate(data['gt_ids'][t])}
        for row in rows.itertuples():
            if row.Type not in ('MATCH', 'SWITCH', 'MISS'):  # TRANSFER etc. repeat a SWITCH
                continue
            gt = row.OId
            first_frame.setdefault(gt, frame)
            if row.Type == 'MISS':
                box = data['gt_dets'][t][gt_index[gt]]
                dets = detections[t]
                xywh = np.c_[dets.boxes[:, :2], dets.boxes[:, 2:] - dets.boxes[:, :2]]
                overlap = _iou(box, xywh)[0] if len(xywh) else np.zeros(0)
                covered = overlap >= 0.5
                if not covered.any():
                    misses['no detection'] += 1
                elif not (dets.scores[covered] >= min_score).any():
                    misses['low-score detection only'] += 1
                elif frame - first_frame[gt] < n_init or gt not in last_hyp:
                    misses['detected, track not yet confirmed'] += 1
                else:
                    misses['detected, not reported (other)'] += 1
                continue
            hyp = row.HId
            if row.Type == 'SWITCH':
                gap = frame - last_frame.get(gt, frame)
                if gt in hyp_seen[hyp]:
                    cause = 'return to an earlier id of its own'
                elif hyp in hyp_owner and hyp_owner[hyp] != gt:
                    cause = 'taken by a track of another object'
                else:
                    cause = 'new track (fragment)'
                switches[f'{cause}, gap {"<=" if gap <= SHORT_GAP else ">"} {SHORT_GAP}'] += 1
            last_hyp[gt], last_frame[gt] = hyp, frame
            hyp_owner[hyp] = gt
            hyp_seen[hyp].add(gt)
    return switches, misses


def main(argv=None):
    """Run the chosen trackers and print the error breakdowns."""
    from perception_deepsort.config import TrackerConfig

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--groups', nargs='+', default=['uninformative'], choices=list(bench_tracker.GROUPS))
    parser.add_argument('--seeds', type=int, nargs='+', default=[1, 2, 3])
    parser.add_argument('--trackers', nargs='*', default=[bench_tracker.DEFAULT, 'ByteTrack', 'BoT-SORT'],
                        metavar='SUBSTRING', help='rows of bench_tracker.py whose name contains one of these')
    parser.add_argument('--data-dir', default=os.path.join(tempfile.gettempdir(), 'bench_tracker_data'))
    args = parser.parse_args(argv)
    cfg = TrackerConfig()
    embedder = bench_tracker.create_default_embedder(bench_tracker.DEFAULT_EMBEDDER)
    with tempfile.TemporaryDirectory(prefix='tracker_errors_') as work:
        for group in args.groups:
            seqs = bench_tracker.group_sequences(group, os.path.join(args.data_dir, 'full'), args.seeds, 300, 15,
                                                 (640, 480))
            embeddings = {n: bench_tracker.embed_sequence(f, embedder, f'{f}.{bench_tracker.DEFAULT_EMBEDDER}.npz')
                          for n, f in seqs.items()}
            rows = {k: v for k, v in bench_tracker.variants(group).items() if any(t in k for t in args.trackers)}
            for name, factory in rows.items():
                switches, misses = collections.Counter(), collections.Counter()
                for seq, folder in seqs.items():
                    out = os.path.join(work, f'{len(rows)}-{seq}.txt')
                    bench_tracker.run_tracker(factory(), folder, embeddings[seq], out)
                    s, m = analyse(folder, out, cfg.min_score, cfg.n_init)
                    switches += s
                    misses += m
                print(f'\n{group}, seeds {args.seeds}, {name}: {sum(switches.values())} ID switches, '
                      f'{sum(misses.values())} missed boxes')
                for what, counter in (('switches', switches), ('missed', misses)):
                    for cause, count in counter.most_common():
                        print(f'  {what}: {cause}: {count}', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
