"""perception-eval-maskrcnn: COCO box and mask AP of a checkpoint on a COCO-format dataset.

Writes ``metrics.json`` (pycocotools' 12 summary numbers for bbox and segm) and
``predictions.png`` (a contact sheet of predicted masks and boxes) into ``--out``.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.cocoeval import COCOeval
from tqdm import tqdm

from ..backends import WeightsError, create_detector
from perception_ros_glue.visualization import color_for, draw_instances
from .dataset import load_coco, read_image

STAT_NAMES = ['AP', 'AP50', 'AP75', 'AP_small', 'AP_medium', 'AP_large',
              'AR1', 'AR10', 'AR100', 'AR_small', 'AR_medium', 'AR_large']


def coco_results(detections, image_id: int, image_shape, category_of_name: dict) -> list[dict]:
    """COCO result entries (bbox xywh, RLE segmentation, score) of one image's detections."""
    results = []
    full_masks = detections.full_masks(image_shape) if detections.masks is not None else None
    for i, (box, score, name) in enumerate(zip(detections.boxes, detections.scores, detections.labels())):
        if name not in category_of_name:
            continue  # a class the dataset does not have
        entry = {'image_id': image_id, 'category_id': category_of_name[name], 'score': float(score),
                 'bbox': [float(box[0]), float(box[1]), float(box[2] - box[0]), float(box[3] - box[1])]}
        if full_masks is not None:
            rle = mask_utils.encode(np.asfortranarray(full_masks[i].astype(np.uint8)))
            entry['segmentation'] = {'size': rle['size'], 'counts': rle['counts'].decode('ascii')}
        results.append(entry)
    return results


def summarize(coco, results: list[dict], iou_type: str) -> dict:
    """pycocotools' summary numbers for one IoU type (zeros when there are no results)."""
    if not results:
        return dict.fromkeys(STAT_NAMES, 0.0)
    with contextlib.redirect_stdout(io.StringIO()):
        evaluation = COCOeval(coco, coco.loadRes(results), iou_type)
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    # pycocotools reports -1 where a size range has no ground truth.
    return {name: max(float(value), 0.0) for name, value in zip(STAT_NAMES, evaluation.stats)}


def evaluate_detector(detector, data_root, ann_file, sheet_path=None, sheet_count: int = 16,
                      sheet_threshold: float = 0.5) -> dict:
    """Run ``detector`` on every image of ``ann_file``; box and mask AP, plus an optional contact sheet.

    The sheet shows only detections scoring at least ``sheet_threshold`` (AP uses all of them).
    """
    coco = load_coco(ann_file)
    category_of_name = {c['name']: c['id'] for c in coco.loadCats(coco.getCatIds())}
    results, tiles = [], []
    for image_id in tqdm(sorted(coco.imgs), desc='evaluating', unit='img'):
        image = read_image(Path(data_root) / coco.imgs[image_id]['file_name'])
        detections = detector.detect(image)
        results += coco_results(detections, image_id, image.shape, category_of_name)
        if sheet_path and len(tiles) < sheet_count:
            shown = detections.select(detections.scores >= sheet_threshold)
            labels = [f'{n} {s:.2f}' for n, s in zip(shown.labels(), shown.scores)]
            tiles.append(draw_instances(image, shown.boxes, labels, [color_for(n) for n in shown.labels()],
                                        shown.masks, shown.mask_origins))
    metrics = {'bbox': summarize(coco, results, 'bbox')}
    if any('segmentation' in r for r in results) or not results:
        metrics['segm'] = summarize(coco, [r for r in results if 'segmentation' in r], 'segm')
    if sheet_path and tiles:
        cv2.imwrite(str(sheet_path), cv2.cvtColor(contact_sheet(tiles), cv2.COLOR_RGB2BGR))
    return metrics


def contact_sheet(tiles: list[np.ndarray], columns: int = 4) -> np.ndarray:
    """Images in a grid (each resized to the first one's size)."""
    height, width = tiles[0].shape[:2]
    tiles = [cv2.resize(t, (width, height)) for t in tiles]
    tiles += [np.zeros_like(tiles[0])] * (-len(tiles) % columns)
    rows = [np.hstack(tiles[i:i + columns]) for i in range(0, len(tiles), columns)]
    return np.vstack(rows)


def format_table(metrics: dict) -> str:
    """Metrics as a small text table, one row per IoU type."""
    columns = ['AP', 'AP50', 'AP75', 'AP_small', 'AP_medium', 'AP_large']
    lines = [f'{"":6}' + ''.join(f'{c:>10}' for c in columns)]
    for iou_type, stats in metrics.items():
        lines.append(f'{iou_type:6}' + ''.join(f'{stats[c]:10.3f}' for c in columns))
    return '\n'.join(lines)


def main(argv=None) -> int:
    """Entry point: evaluate, print the table, write metrics.json and predictions.png."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--weights', required=True, help='checkpoint or weights file (any maskrcnn/yolo file)')
    parser.add_argument('--data-root', required=True, type=Path, help='folder the image file_names are relative to')
    parser.add_argument('--ann', required=True, type=Path, help='COCO instances JSON to evaluate on')
    parser.add_argument('--out', type=Path, default=Path('eval'), help='folder for metrics.json and predictions.png')
    parser.add_argument('--device', default='auto', help='auto|cpu|cuda|cuda:N')
    parser.add_argument('--score-threshold', type=float, default=0.05,
                        help='keep detections above this score (COCO practice: low)')
    args = parser.parse_args(argv)
    try:
        detector = create_detector('auto', weights=args.weights, device=args.device,
                                   score_threshold=args.score_threshold)
        args.out.mkdir(parents=True, exist_ok=True)
        metrics = evaluate_detector(detector, args.data_root, args.ann, args.out / 'predictions.png')
    except (WeightsError, FileNotFoundError, ValueError) as error:
        print(f'perception-eval-maskrcnn: error: {error}', file=sys.stderr)
        return 2
    metrics['weights'] = detector.describe()
    (args.out / 'metrics.json').write_text(json.dumps(metrics, indent=1))
    print(format_table({k: v for k, v in metrics.items() if k != 'weights'}))
    print(f'wrote {args.out / "metrics.json"} and {args.out / "predictions.png"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
