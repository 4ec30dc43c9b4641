"""MOTChallenge rows: box conversion and writing (``frame,id,x,y,w,h,...``, frames 1-based).

The one place that converts between corner boxes (x1, y1, x2, y2; used everywhere in our
libraries) and MOTChallenge's top-left/width/height. Reading sequence folders lives in
``perception_deepsort.mot.io``, which re-exports these.
"""
import os

import numpy as np


def xywh_to_xyxy(xywh: np.ndarray) -> np.ndarray:
    """Convert top-left/width/height boxes to corner boxes."""
    xywh = np.asarray(xywh, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)


def xyxy_to_xywh(xyxy: np.ndarray) -> np.ndarray:
    """Convert corner boxes to top-left/width/height boxes."""
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)


def format_rows(frames, ids, boxes_xyxy, tail: np.ndarray) -> list[str]:
    """Format MOT rows: frame, id, x, y, w, h, then the tail columns."""
    xywh = xyxy_to_xywh(boxes_xyxy)
    lines = []
    for f, i, b, t in zip(frames, ids, xywh, tail):
        tail_txt = ','.join(f'{v:g}' if float(v).is_integer() else f'{v:.4f}' for v in t)
        lines.append(f'{int(f)},{int(i)},{b[0]:.2f},{b[1]:.2f},{b[2]:.2f},{b[3]:.2f},{tail_txt}\n')
    return lines


def write_rows(path: str, frames, ids, boxes_xyxy, tail) -> None:
    """Write MOT rows (frame, id, xywh from xyxy, tail columns) to ``path``, creating folders."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tail = np.asarray(tail, dtype=np.float64)
    # An empty sequence result (nothing tracked) is an empty file, whatever the tail's shape.
    tail = tail.reshape(len(frames), -1) if len(frames) else np.zeros((0, 0))
    with open(path, 'w', encoding='utf8') as f:
        f.writelines(format_rows(frames, ids, boxes_xyxy, tail))


def write_results(path: str, frames, ids, boxes_xyxy, scores) -> None:
    """Write tracker results ``frame,id,x,y,w,h,conf,-1,-1,-1``."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1, 1)
    write_rows(path, frames, ids, boxes_xyxy, np.hstack([scores, -np.ones((len(scores), 3))]))


def write_detections(path: str, frames, boxes_xyxy, scores) -> None:
    """Write a detection file ``frame,-1,x,y,w,h,score,-1,-1,-1``."""
    write_results(path, frames, -np.ones(len(frames)), boxes_xyxy, scores)
