"""Trackers when the detector drops frames: what a detector slower than the camera does to tracking.

    python benchmarks/bench_tracker_drops.py [--quick] [--seeds 4 5 6] [--drops 0 0.27 0.5]

A detector that cannot keep up with the camera skips frames (detector_node keeps only the newest:
the demo at 10 fps on 2 cores drops 27% of them). The tracker then sees irregular, longer gaps.
On the people group of bench_tracker.py (generated sequences, 30 fps), a random share of frames
is withheld from every tracker (the same frames for all), and each is scored only on the frames
it was given (ground truth of the other frames removed). Timestamps stay real, so a time-based
tracker predicts across the gaps. Prints one row per drop share and tracker.
"""
import argparse
import os
import shutil
import tempfile
import zlib

import numpy as np

import bench_tracker as bench

TRACKERS = ('ours: default (all extensions)', 'ours: DeepSORT paper settings', 'boxmot ByteTrack',
            'boxmot OC-SORT', 'boxmot BoT-SORT (no ReID, ECC)')


def kept_frames(name, length, drop):
    """Which frames the detector answers (a fixed draw per sequence; frame 1 always)."""
    keep = np.random.default_rng(zlib.crc32(name.encode())).random(length) >= drop
    keep[0] = True
    return keep


def ground_truth_on(seq_dir, keep, folder):
    """A sequence folder whose ground truth has only the kept frames."""
    os.makedirs(os.path.join(folder, 'gt'), exist_ok=True)
    shutil.copy(os.path.join(seq_dir, 'seqinfo.ini'), folder)
    gt = np.loadtxt(os.path.join(seq_dir, 'gt', 'gt.txt'), delimiter=',', ndmin=2)
    np.savetxt(os.path.join(folder, 'gt', 'gt.txt'), gt[keep[gt[:, 0].astype(int) - 1]],
               delimiter=',', fmt='%g')
    return folder


def main(argv=None):
    """Run every tracker at every drop share and print the table."""
    from perception_deepsort.mot import evaluate, io

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[4, 5, 6],
                        help='generated sequences (default: the held-out seeds of bench_tracker.py)')
    parser.add_argument('--drops', type=float, nargs='+', default=[0.0, 0.27, 0.5],
                        help='shares of frames without detections')
    parser.add_argument('--quick', action='store_true',
                        help="bench_tracker.py --quick's sequences (20 frames, 5 people): a smoke run")
    parser.add_argument('--data-dir', default=os.path.join(tempfile.gettempdir(), 'bench_tracker_data'))
    args = parser.parse_args(argv)
    # The same sequences, embedder and cache as bench_tracker.py.
    frames, objects, size, tag = ((20, 5, (320, 240), 'histogram') if args.quick else
                                  (300, 15, (640, 480), bench.DEFAULT_EMBEDDER))
    seqs = bench.group_sequences('people', os.path.join(args.data_dir, 'quick' if args.quick else 'full'),
                                 args.seeds, frames, objects, size)
    embedder = bench.create_default_embedder(tag)
    embeddings = {n: bench.embed_sequence(f, embedder, f'{f}.{tag}.npz') for n, f in seqs.items()}
    factories = bench.variants('people')
    print('| frames dropped | tracker | IDF1 | HOTA | MOTA | IDSW | FN |\n|---|---|---|---|---|---|---|')
    with tempfile.TemporaryDirectory() as work:
        for drop in args.drops:
            # The same frames withheld from every tracker, and the ground truth of those given.
            keeps = {name: kept_frames(name, io.read_seqinfo(folder).length, drop)
                     for name, folder in seqs.items()}
            truths = {name: ground_truth_on(folder, keeps[name], os.path.join(work, f'gt-{drop}', name))
                      for name, folder in seqs.items()}
            for index, tracker in enumerate(TRACKERS):
                pairs = {}
                for name, folder in seqs.items():
                    out = os.path.join(work, f'{drop}-{index}', name + '.txt')
                    bench.run_tracker(factories[tracker](), folder, embeddings[name], out, keeps[name])
                    pairs[name] = (truths[name], out)
                metrics = evaluate.evaluate(pairs)
                row = metrics.get(evaluate.COMBINED, next(iter(metrics.values())))
                print(f'| {100 * drop:.0f}% | {tracker} | {100 * row["IDF1"]:.1f} | {100 * row["HOTA"]:.1f} '
                      f'| {100 * row["MOTA"]:.1f} | {row["IDSW"]} | {row["FN"]} |', flush=True)


if __name__ == '__main__':
    main()
