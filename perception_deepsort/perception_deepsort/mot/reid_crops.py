"""Cut the ground-truth identities of MOTChallenge sequences into a Market-1501-layout re-ID set.

Usage: ``perception-mot-reid-crops --seqs ROOT [ROOT ...] --out DIR [--eval-seqs N --every K
--min-visibility V --boxes det|gt]``. This is how a descriptor is adapted to a domain: train
``perception-train-reid`` on sequences from the cameras and scenes the tracker will see (never on
the sequences it is evaluated on). Every identity of every sequence becomes its own person id.

Crops come from the detections matched to a ground-truth box (IoU >= 0.5) by default, so the
network learns from boxes like the ones it embeds when tracking (drifted towards the visible
part, jittered); ``--boxes gt`` uses the ground-truth boxes. The last ``--eval-seqs`` sequences
give ``query/`` (one crop from the first half of each identity's life, camera 1) and
``bounding_box_test/`` (its second half, camera 2), so rank-1/mAP measure re-identification
after time has passed, as in tracking.
"""

import argparse
import os
import sys

import cv2
import numpy as np
from tqdm import tqdm

from perception_deepsort.iou_matching import iou
from perception_deepsort.linear_assignment import min_cost_matching
from perception_deepsort.mot import io
from perception_deepsort.reid.crops import clip_boxes

MATCH_IOU = 0.5
MAX_PERSON_ID = 9999  # Market-1501 names carry four digits


def matched_boxes(truth_boxes, detection_boxes):
    """(truth rows, matched detection boxes): the one-to-one IoU matches of at least MATCH_IOU."""
    overlap = iou(truth_boxes.astype(np.float64), detection_boxes.astype(np.float64))
    rows, cols, _, _ = min_cost_matching(1.0 - overlap, 1.0 - MATCH_IOU)
    return rows, detection_boxes[cols]


def collect(seq_dir, every, min_visibility, use_detections):
    """Return {gt id: [(frame, box xyxy), ...]} of the sequence's usable crops, in frame order."""
    info = io.read_seqinfo(seq_dir)
    truth = io.read_ground_truth(seq_dir, info.length)
    detections = io.read_detections(seq_dir, info.length) if use_detections else None
    tracks = {}
    for index in range(0, info.length, every):
        gt = truth[index]
        usable = (gt.scores > 0) & (gt.visibility >= min_visibility)
        ids, boxes = gt.ids[usable], gt.boxes[usable]
        if detections is not None:
            rows, boxes = matched_boxes(boxes, detections[index].boxes)
            ids = ids[rows]
        for pid, box in zip(ids, boxes):
            tracks.setdefault(int(pid), []).append((index + 1, box))
    return info, tracks


def write_crops(seq_dir, info, tracks, first_pid, out_dir, evaluation, quality=95):
    """Write one sequence's crops; return how many person ids it used."""
    by_frame = {}
    pid = first_pid
    for gt_id in sorted(tracks):
        samples = tracks[gt_id]
        if len(samples) < 2:
            continue
        if pid > MAX_PERSON_ID:
            raise ValueError(f'more than {MAX_PERSON_ID} identities: Market-1501 names hold four digits')
        half = len(samples) // 2
        for i, (frame, box) in enumerate(samples):
            if not evaluation:
                split, camera = 'bounding_box_train', 1
            elif i < half:
                if i != half // 2:
                    continue  # one query per identity, from the middle of its first half
                split, camera = 'query', 1
            else:
                split, camera = 'bounding_box_test', 2
            name = f'{pid:04d}_c{camera}s1_{frame:06d}_00.jpg'
            by_frame.setdefault(frame, []).append((os.path.join(out_dir, split, name), box))
        pid += 1
    for frame, items in by_frame.items():
        image = cv2.imread(io.frame_path(seq_dir, info, frame), cv2.IMREAD_COLOR)
        if image is None:
            raise io.MotFormatError(f'{io.frame_path(seq_dir, info, frame)}: missing or unreadable image')
        boxes = clip_boxes(np.array([box for _, box in items]), image.shape[1], image.shape[0])
        for (path, _), (x1, y1, x2, y2) in zip(items, boxes):
            if x2 > x1 and y2 > y1:
                cv2.imwrite(path, image[y1:y2, x1:x2], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return pid - first_pid


def export(roots, out_dir, eval_seqs=0, every=3, min_visibility=0.6, use_detections=True, progress=True):
    """Write the re-ID set; return {'train_ids', 'eval_ids', 'sequences'}."""
    seqs = {}
    for root in roots:
        seqs.update(io.find_sequences(root))
    names = sorted(seqs)
    if eval_seqs >= len(names) and eval_seqs > 0:
        raise ValueError(f'--eval-seqs {eval_seqs} leaves no training sequence of {len(names)}')
    for split in ('bounding_box_train', 'query', 'bounding_box_test'):
        os.makedirs(os.path.join(out_dir, split), exist_ok=True)
    counts = {'train_ids': 0, 'eval_ids': 0, 'sequences': len(names)}
    next_pid = 1
    for i, name in enumerate(tqdm(names, desc='sequences', disable=not progress)):
        evaluation = i >= len(names) - eval_seqs
        info, tracks = collect(seqs[name], every, min_visibility, use_detections)
        used = write_crops(seqs[name], info, tracks, next_pid, out_dir, evaluation)
        counts['eval_ids' if evaluation else 'train_ids'] += used
        next_pid += used
    return counts


def main(argv=None):
    """Command line entry point of perception-mot-reid-crops."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seqs', nargs='+', required=True, help='sequence folders or folders of sequences')
    parser.add_argument('--out', required=True, help='output dataset root (Market-1501 layout)')
    parser.add_argument('--eval-seqs', type=int, default=0,
                        help='the last N sequences (by name) become query/gallery instead of training (default 0)')
    parser.add_argument('--every', type=int, default=3, help='take every K-th frame (default 3)')
    parser.add_argument('--min-visibility', type=float, default=0.6,
                        help='skip ground truth less visible than this (default 0.6)')
    parser.add_argument('--boxes', choices=['det', 'gt'], default='det',
                        help='crop the matched detection (default) or the ground-truth box')
    args = parser.parse_args(argv)
    if args.every < 1:
        parser.error('--every must be at least 1')
    try:
        counts = export(args.seqs, args.out, args.eval_seqs, args.every, args.min_visibility, args.boxes == 'det')
    except (io.MotFormatError, ValueError) as exc:
        print(f'perception-mot-reid-crops: error: {exc}', file=sys.stderr)
        return 2
    print(f"{counts['train_ids']} training and {counts['eval_ids']} evaluation identities from "
          f"{counts['sequences']} sequences in {args.out}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
