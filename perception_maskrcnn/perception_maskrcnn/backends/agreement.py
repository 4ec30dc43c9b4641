"""How far two detectors agree on the same image: the share of one's boxes the other reproduces.

Used to check that an exported runtime (ONNX Runtime, OpenVINO, TensorRT) gives the same
detections as PyTorch: a box counts as matched when the other output has a box of the same
class with IoU >= ``min_iou`` and a score within ``max_score_diff`` (one-to-one, Hungarian).
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torchvision.ops import box_iou

from perception_ros_glue.detections import Detections


def matched_count(a: Detections, b: Detections, min_iou: float = 0.9,
                  max_score_diff: float = 0.05) -> int:
    """Number of one-to-one pairs (box of ``a``, box of ``b``) that agree."""
    if len(a) == 0 or len(b) == 0:
        return 0
    iou = box_iou(torch.as_tensor(a.boxes, dtype=torch.float32),
                  torch.as_tensor(b.boxes, dtype=torch.float32)).numpy()
    agree = ((iou >= min_iou) & (np.abs(a.scores[:, None] - b.scores[None, :]) <= max_score_diff)
             & (a.class_ids[:, None] == b.class_ids[None, :]))
    rows, cols = linear_sum_assignment(-np.where(agree, iou, 0.0))
    return int(agree[rows, cols].sum())


def agreement(reference: list[Detections], other: list[Detections], score_threshold: float = 0.0,
              min_iou: float = 0.9, max_score_diff: float = 0.05) -> dict:
    """Over frames: the share of each side's boxes (score >= ``score_threshold``) the other reproduces.

    Each side's boxes are matched against all of the other side's: detect both down to
    ``score_threshold - max_score_diff``, so a box just above the threshold on one side finds its
    partner just below it on the other.
    """
    shares = {}
    for name, mine, theirs in (('reference', reference, other), ('other', other, reference)):
        kept = [d.select(d.scores >= score_threshold) for d in mine]
        boxes = sum(map(len, kept))
        matched = sum(matched_count(k, t, min_iou, max_score_diff) for k, t in zip(kept, theirs))
        shares[f'{name}_boxes'] = boxes
        shares[f'{name}_matched'] = matched / boxes if boxes else 1.0
    return shares
