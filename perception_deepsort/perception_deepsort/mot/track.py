"""Run the DeepSORT tracker over MOTChallenge sequences and write MOTChallenge results.

Frames are decoded only when the tracker needs them (an appearance embedder or
camera-motion compensation), one frame ahead in a worker thread so decoding
overlaps tracking. Timestamps are ``(frame - 1) / frameRate`` from seqinfo.ini.
"""

import argparse
import dataclasses
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, Iterator, List, Optional

import numpy as np
from tqdm import tqdm

from perception_deepsort.config import TrackerConfig
from perception_deepsort.mot import io
from perception_deepsort.deep_sort import DeepSort, build_embedder, confirmed_tracks


def _prefetched_frames(seq_dir: str, info: io.SeqInfo, wanted: bool) -> Iterator[Optional[np.ndarray]]:
    """Yield each frame's RGB image (decoded one ahead in a thread), or None for every frame if not wanted."""
    if not wanted:
        for _ in range(info.length):
            yield None
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(io.read_frame, seq_dir, info, 1)
        for frame in range(1, info.length + 1):
            image = pending.result()
            if frame < info.length:
                pending = pool.submit(io.read_frame, seq_dir, info, frame + 1)
            yield image


def track_sequence(seq_dir: str, out_path: str, config: TrackerConfig, embedder=None,
                   progress: bool = True) -> int:
    """Track one sequence folder into ``out_path``; return the number of frames processed.

    Written rows are confirmed tracks matched to a detection in that frame (the reference
    DeepSORT's output rule), with the tracker's box and score.
    """
    info = io.read_seqinfo(seq_dir)
    detections = io.read_detections(seq_dir, info.length)
    tracker = DeepSort(config, embedder=embedder)
    frames, ids, boxes, scores = [], [], [], []
    images = _prefetched_frames(seq_dir, info, tracker.needs_image)
    for index, (dets, image) in enumerate(tqdm(zip(detections, images), total=info.length, desc=info.name,
                                               unit='frame', disable=not progress, leave=False)):
        outputs = tracker.update(dets.boxes, dets.scores, dets.class_ids,
                                 timestamp=index / info.frame_rate, image=image)
        for track in confirmed_tracks(outputs):
            frames.append(index + 1)
            ids.append(track.track_id)
            boxes.append(track.box)
            scores.append(track.score)
    io.write_results(out_path, frames, ids, np.array(boxes, dtype=np.float64).reshape(-1, 4), scores)
    return info.length


def resolve_jobs(seq_dirs: List[str], out: Optional[str], out_dir: Optional[str]) -> Dict[str, str]:
    """Map each sequence folder to its results file; a folder of sequences expands to all of them."""
    sequences = {}
    for seq_dir in seq_dirs:
        for name, folder in io.find_sequences(seq_dir).items():
            if name in sequences:
                raise io.MotFormatError(f'{folder}: sequence name {name!r} given twice')
            sequences[name] = folder
    if out_dir:
        return {folder: os.path.join(out_dir, name + '.txt') for name, folder in sequences.items()}
    if len(sequences) != 1:
        raise io.MotFormatError(f'{len(sequences)} sequences given: use --out-dir (one <sequence>.txt each) '
                                'instead of --out')
    return {folder: out for folder in sequences.values()}


def load_config(path: Optional[str], embedder: Optional[str], weights: Optional[str] = None) -> TrackerConfig:
    """TrackerConfig from a YAML file (ROS parameter file or flat) or defaults, with --embedder(-weights) applied."""
    config = TrackerConfig.from_yaml(path) if path else TrackerConfig()
    if embedder:
        config = dataclasses.replace(config, embedder=embedder)
    return dataclasses.replace(config, embedder_weights=weights) if weights else config


def main(argv=None) -> int:
    """``perception-track-mot``: track MOTChallenge sequences offline."""
    parser = argparse.ArgumentParser(
        prog='perception-track-mot',
        description='Run DeepSORT over MOTChallenge sequences (seqinfo.ini, det/det.txt, img1/) and write '
                    'results as frame,id,x,y,w,h,conf,-1,-1,-1. Images are read only when the embedder or '
                    'camera-motion compensation needs them.')
    parser.add_argument('--seq-dir', action='append', required=True,
                        help='sequence folder, or a folder of sequence folders; may be repeated')
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument('--out', help='results file (exactly one sequence)')
    target.add_argument('--out-dir', help='results folder: writes <sequence>.txt per sequence')
    parser.add_argument('--config', help='tracker parameters: ROS parameter YAML (tracker_node section) or flat')
    parser.add_argument('--embedder', help='override the config embedder: auto | mobilenetv2 | cnn | histogram | none')
    parser.add_argument('--embedder-weights', metavar='CKPT',
                        help="override the config's embedder_weights (a perception-train-reid checkpoint for 'cnn')")
    parser.add_argument('--no-progress', action='store_true', help='no progress bars')
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config, args.embedder, args.embedder_weights)
        jobs = resolve_jobs(args.seq_dir, args.out, args.out_dir)
        embedder = build_embedder(config)
    except (ValueError, RuntimeError, OSError) as exc:  # MotFormatError, config and weights errors
        print(f'perception-track-mot: error: {exc}', file=sys.stderr)
        return 2
    start, frames = time.perf_counter(), 0
    try:
        for seq_dir, out_path in tqdm(jobs.items(), desc='sequences', disable=args.no_progress or len(jobs) == 1):
            frames += track_sequence(seq_dir, out_path, config, embedder, progress=not args.no_progress)
            print(out_path)
    except io.MotFormatError as exc:
        print(f'perception-track-mot: error: {exc}', file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - start
    print(f'{frames} frames in {elapsed:.1f} s: {frames / max(elapsed, 1e-9):.1f} frames/s '
          f'(embedder {embedder.name if embedder else "none"}, {len(jobs)} sequence(s))')
    return 0


if __name__ == '__main__':
    sys.exit(main())
