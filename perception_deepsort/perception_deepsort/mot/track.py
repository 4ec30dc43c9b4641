"""Run the DeepSORT tracker over MOTChallenge sequences and write MOTChallenge results.

The sequence drives the same per-frame engine as tracker_node (frame_tracker.FrameTracker),
in the order a live graph would see it (``track_offline``). By default every frame has its
detections at once, and the rows get what only hindsight adds (``mot/offline_rows.py``: a
confirmed track's first frames, gaps of up to ``OFFLINE_GAP`` frames interpolated).
``camera_rate`` replays a detector slower than the camera: frames of seqinfo.ini without rows
in det.txt are frames the detector skipped, the detections of frame t reach the tracker from
frame t + ``detection_delay`` on, and every frame is written as the node would have published
it when that frame arrived (nothing after the fact).

Frames are decoded only when the tracker needs them (camera motion, box flow, an appearance
embedder), one frame ahead in a worker thread so decoding overlaps tracking. Timestamps are
``(frame - 1) / frameRate`` from seqinfo.ini.
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
from perception_deepsort.deep_sort import build_embedder
from perception_deepsort.frame_tracker import TRACKS, FrameTracker, track_offline
from perception_deepsort.mot import io
from perception_deepsort.mot.offline_rows import OfflineRows
from perception_ros_glue.detections import Detections

#: Gaps of a track found again that offline rows fill in (frames; docs/BENCHMARKS.md).
OFFLINE_GAP = 10


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


def frame_stamp(index: int, frame_rate: float) -> int:
    """Stamp in ns of the 0-based frame ``index`` of a sequence."""
    return int(round(index / frame_rate * 1e9))


def sequence_frames(seq_dir: str, info: io.SeqInfo, images, camera_rate: bool = False,
                    embeddings=None) -> Iterator[tuple]:
    """``track_offline`` frames of a sequence; with ``camera_rate`` a frame without det.txt rows
    was skipped by the detector. ``embeddings``: per-frame appearance features, or None."""
    for index, (dets, image) in enumerate(zip(io.read_detections(seq_dir, info.length), images)):
        skipped = camera_rate and len(dets.boxes) == 0
        # MOTChallenge classes are numbers: their names are the numbers' text.
        names = [str(c) for c in range(int(dets.class_ids.max(initial=0)) + 1)]
        detections = None if skipped else Detections(dets.boxes, dets.scores, dets.class_ids, names)
        yield (frame_stamp(index, info.frame_rate), info.name, image, detections, None,
               None if embeddings is None or skipped else embeddings[index])


def track_sequence(seq_dir: str, out_path: str, config: TrackerConfig, embedder=None,
                   progress: bool = True, camera_rate: bool = False, detection_delay: int = 0) -> int:
    """Track one sequence folder into ``out_path``; return the number of frames processed.

    Written rows are the confirmed tracks of each frame's published tracks (deep_sort's output
    rule; on frames without detections, the tracks followed to them), with the tracker's box and
    score; offline (not ``camera_rate``) with first frames and short gaps filled in.
    """
    info = io.read_seqinfo(seq_dir)
    tracker = FrameTracker(config, embedder)
    tracker.expect_masks = False
    images = _prefetched_frames(seq_dir, info, tracker.needs_pixels)
    frames = sequence_frames(seq_dir, info, images, camera_rate)
    rows = OfflineRows(first_frames=not camera_rate, max_gap=0 if camera_rate else OFFLINE_GAP)
    for index, outputs in tqdm(track_offline(tracker, frames, detection_delay), total=info.length,
                               desc=info.name, unit='frame', disable=not progress, leave=False):
        for output in outputs:
            if output.kind == TRACKS:
                rows.add(index + 1, output.tracks)
    io.write_results(out_path, *rows.rows())
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
    parser.add_argument('--camera-rate', action='store_true',
                        help='a detector slower than the camera: frames without det.txt rows were skipped by the '
                             'detector; every frame is written as the live tracker_node publishes it')
    parser.add_argument('--detection-delay', type=int, default=0, metavar='FRAMES',
                        help='with --camera-rate: the detections of frame t reach the tracker from frame t + FRAMES '
                             'on (the detector\'s latency in camera frames; default 0)')
    parser.add_argument('--no-progress', action='store_true', help='no progress bars')
    args = parser.parse_args(argv)
    if args.detection_delay < 0 or (args.detection_delay and not args.camera_rate):
        parser.error('--detection-delay takes a number of frames >= 0, with --camera-rate')
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
            frames += track_sequence(seq_dir, out_path, config, embedder, progress=not args.no_progress,
                                     camera_rate=args.camera_rate, detection_delay=args.detection_delay)
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
