"""MOT metrics of tracker results against MOTChallenge ground truth.

Both libraries see the same data: trackeval's ``MotChallenge2DBox`` reads and
preprocesses the files with the MOT16/17 conventions (only considered pedestrians,
results on distractors dropped); ``metrics.HOTA`` gives HOTA/DetA/AssA and a
motmetrics accumulator fed with the same per-frame IoUs gives MOTA, IDF1, ID switches,
precision and recall. (motmetrics' own file helpers call ``np.asfarray``, gone in
NumPy 2, so its IoU code is not used.)
"""

import argparse
import contextlib
import io as stdio
import json
import os
import sys
import tempfile
from typing import Dict, List, Optional, Tuple

import motmetrics as mm
import numpy as np
import pandas as pd
import trackeval

from perception_deepsort.mot import io

# Column name in the printed table -> motmetrics metric name.
MM_METRICS = {'IDF1': 'idf1', 'MOTA': 'mota', 'IDSW': 'num_switches', 'Prcn': 'precision', 'Rcll': 'recall',
              'FP': 'num_false_positives', 'FN': 'num_misses', 'Frag': 'num_fragmentations',
              'MT': 'mostly_tracked', 'ML': 'mostly_lost', 'GT_IDs': 'num_unique_objects'}
PERCENT = ('IDF1', 'MOTA', 'HOTA', 'DetA', 'AssA', 'Prcn', 'Rcll')
COMBINED = 'COMBINED'


def _preprocessed(pairs: Dict[str, Tuple[str, str]]) -> Dict[str, dict]:
    """trackeval's MOT17 preprocessing per sequence: considered pedestrians only, distractor hits dropped.

    Returns trackeval's data dict (ids relabelled, per-frame IoU ``similarity_scores``).
    """
    with tempfile.TemporaryDirectory(prefix='eval_mot_') as tmp:
        seq_info = {}
        os.makedirs(os.path.join(tmp, 'trackers', 'tracker', 'data'))
        for name, (seq_dir, results) in pairs.items():
            os.makedirs(os.path.join(tmp, 'gt', name, 'gt'))
            os.symlink(os.path.abspath(os.path.join(seq_dir, 'gt', 'gt.txt')),
                       os.path.join(tmp, 'gt', name, 'gt', 'gt.txt'))
            os.symlink(os.path.abspath(results), os.path.join(tmp, 'trackers', 'tracker', 'data', name + '.txt'))
            seq_info[name] = io.read_seqinfo(seq_dir).length
        config = {'GT_FOLDER': os.path.join(tmp, 'gt'), 'TRACKERS_FOLDER': os.path.join(tmp, 'trackers'),
                  'TRACKERS_TO_EVAL': ['tracker'], 'SEQ_INFO': seq_info, 'SKIP_SPLIT_FOL': True,
                  'PRINT_CONFIG': False}
        data = {}
        with contextlib.redirect_stdout(stdio.StringIO()):  # trackeval prints its config
            dataset = trackeval.datasets.MotChallenge2DBox(config)
            for name, (seq_dir, results) in pairs.items():
                try:
                    raw = dataset.get_raw_seq_data('tracker', name)
                    data[name] = dataset.get_preprocessed_seq_data(raw, 'pedestrian')
                except trackeval.utils.TrackEvalException as exc:
                    raise io.MotFormatError(f'{results} / {seq_dir}: {exc}') from None
    return data


def _accumulator(data: dict, iou: float) -> mm.MOTAccumulator:
    """motmetrics accumulator from preprocessed data (distance = 1 - IoU, pairs below ``iou`` forbidden)."""
    acc = mm.MOTAccumulator(auto_id=False)
    for t in range(data['num_timesteps']):
        sim = data['similarity_scores'][t]
        dist = np.where(sim >= iou - 1e-9, 1.0 - sim, np.nan)
        acc.update(data['gt_ids'][t], data['tracker_ids'][t], dist, frameid=t + 1)
    return acc


def _motmetrics(data: Dict[str, dict], iou: float) -> pd.DataFrame:
    """motmetrics summary, one row per sequence plus the overall row for several sequences."""
    accumulators = [_accumulator(d, iou) for d in data.values()]
    return mm.metrics.create().compute_many(accumulators, names=list(data), metrics=list(MM_METRICS.values()),
                                            generate_overall=len(data) > 1)


def _hota(data: Dict[str, dict]) -> Dict[str, Dict[str, float]]:
    """trackeval HOTA, DetA, AssA per sequence and combined (alpha-averaged, in 0..1)."""
    metric = trackeval.metrics.HOTA()
    per_seq = {name: metric.eval_sequence(d) for name, d in data.items()}
    if len(per_seq) > 1:
        per_seq[COMBINED] = metric.combine_sequences(per_seq)
    return {name: {k: float(np.mean(res[k])) for k in ('HOTA', 'DetA', 'AssA')} for name, res in per_seq.items()}


def evaluate(pairs: Dict[str, Tuple[str, str]], iou: float = 0.5) -> Dict[str, Dict[str, float]]:
    """Metrics for ``{name: (sequence folder, results file)}``; adds a 'COMBINED' row for several sequences.

    Ratios (IDF1, MOTA, HOTA, DetA, AssA, Prcn, Rcll) are fractions in 0..1; counts are integers.
    """
    for name, (seq_dir, results) in pairs.items():
        for path in (os.path.join(seq_dir, 'gt', 'gt.txt'), results):
            if not os.path.isfile(path):
                raise io.MotFormatError(f'{path}: not found (sequence {name})')
    data = _preprocessed(pairs)
    summary = _motmetrics(data, iou)
    hota = _hota(data)
    track_ids = {name: int(d['num_tracker_ids']) for name, d in data.items()}
    track_ids[COMBINED] = sum(track_ids.values())
    table = {}
    for row_name, row in summary.iterrows():
        name = COMBINED if row_name == 'OVERALL' else row_name
        values = {col: (float(row[m]) if col in PERCENT else int(row[m])) for col, m in MM_METRICS.items()}
        table[name] = {**hota[name], **values, 'IDs': track_ids[name]}
    return table


def pair_results(gt_root: str, results: str, names: Optional[List[str]] = None) -> Dict[str, Tuple[str, str]]:
    """Match sequences under ``gt_root`` with results: one file for one sequence, or ``RESULTS/<seq>.txt``."""
    seqs = io.find_sequences(gt_root)
    if names:
        missing = [n for n in names if n not in seqs]
        if missing:
            raise io.MotFormatError(f'{gt_root}: no sequence named {", ".join(missing)}')
        seqs = {n: seqs[n] for n in names}
    if os.path.isfile(results):
        if len(seqs) != 1:
            raise io.MotFormatError(f'{results}: one results file given for {len(seqs)} sequences; '
                                    'pass a folder with one <sequence>.txt per sequence')
        return {name: (folder, results) for name, folder in seqs.items()}
    if not os.path.isdir(results):
        raise io.MotFormatError(f'{results}: not found (expected a results file or a folder of <sequence>.txt)')
    return {name: (folder, os.path.join(results, name + '.txt')) for name, folder in seqs.items()}


def format_table(table: Dict[str, Dict[str, float]], columns=('HOTA', 'IDF1', 'MOTA', 'IDSW', 'DetA', 'AssA',
                                                               'Prcn', 'Rcll', 'FP', 'FN', 'GT_IDs', 'IDs')) -> str:
    """Markdown table, percentages with one decimal."""
    lines = ['| sequence | ' + ' | '.join(columns) + ' |', '|---' * (len(columns) + 1) + '|']
    for name, row in table.items():
        cells = [f'{100 * row[c]:.1f}' if c in PERCENT else str(row[c]) for c in columns]
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def main(argv=None) -> int:
    """``perception-eval-mot``: print HOTA/IDF1/MOTA/ID switches of results against ground truth."""
    parser = argparse.ArgumentParser(
        prog='perception-eval-mot',
        description='Evaluate MOTChallenge results against gt/gt.txt: HOTA (trackeval), IDF1, MOTA, ID switches, '
                    'precision, recall (motmetrics). One row per sequence plus a combined row.')
    parser.add_argument('--gt-root', required=True,
                        help='a sequence folder (seqinfo.ini, gt/gt.txt) or a folder of sequence folders')
    parser.add_argument('--results', required=True,
                        help='results file (one sequence) or folder with <sequence>.txt per sequence')
    parser.add_argument('--seqs', nargs='+', help='evaluate only these sequence names')
    parser.add_argument('--iou', type=float, default=0.5, help='IoU threshold for CLEAR/ID matching (default 0.5)')
    parser.add_argument('--json', help='also write the metrics to this JSON file')
    args = parser.parse_args(argv)
    try:
        table = evaluate(pair_results(args.gt_root, args.results, args.seqs), args.iou)
    except io.MotFormatError as exc:
        print(f'perception-eval-mot: error: {exc}', file=sys.stderr)
        return 2
    print(format_table(table))
    if args.json:
        with open(args.json, 'w', encoding='utf8') as f:
            json.dump(table, f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
