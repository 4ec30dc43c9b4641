"""Read and write MOTChallenge sequence folders (rows and box conversion: perception_ros_glue.mot_rows).

Layout: ``SEQ/seqinfo.ini``, ``SEQ/img1/000001.jpg ...``, ``SEQ/det/det.txt``
(``frame,-1,x,y,w,h,score,...``), ``SEQ/gt/gt.txt``
(``frame,id,x,y,w,h,considered,class,visibility``) and results files
(``frame,id,x,y,w,h,conf,-1,-1,-1``). Frames are 1-based.
"""

import configparser
import os
import warnings
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np

from perception_ros_glue.image_files import read_rgb
# Row writing and box conversion sit below both packages (perception-detect writes det files too).
from perception_ros_glue.mot_rows import (write_detections, write_results, write_rows,  # noqa: F401
                                          xywh_to_xyxy, xyxy_to_xywh)


class MotFormatError(ValueError):
    """A MOTChallenge file or folder is missing or malformed; the message names the path."""


@dataclass
class SeqInfo:
    """The ``[Sequence]`` section of ``seqinfo.ini``."""

    name: str
    frame_rate: float
    length: int
    width: int
    height: int
    im_dir: str = 'img1'
    im_ext: str = '.jpg'


@dataclass
class FrameBoxes:
    """Rows of one frame: boxes (N, 4) xyxy float32, scores (the considered flag for ground truth),
    ids (-1 for detections), class ids (0 when the file has none) and visibility (1 when absent)."""

    boxes: np.ndarray
    scores: np.ndarray
    ids: np.ndarray
    class_ids: np.ndarray
    visibility: np.ndarray


def read_seqinfo(seq_dir: str) -> SeqInfo:
    """Parse ``SEQ/seqinfo.ini``; raise MotFormatError naming the file when it is unusable."""
    path = os.path.join(seq_dir, 'seqinfo.ini')
    if not os.path.isfile(path):
        raise MotFormatError(f'{path}: not found (expected a MOTChallenge seqinfo.ini with a [Sequence] section)')
    parser = configparser.ConfigParser()
    try:
        parser.read(path, encoding='utf8')
        sec = parser['Sequence']
        return SeqInfo(
            name=sec.get('name', os.path.basename(os.path.normpath(seq_dir))),
            frame_rate=float(sec.get('frameRate', '30')),
            length=int(sec['seqLength']),
            width=int(sec['imWidth']),
            height=int(sec['imHeight']),
            im_dir=sec.get('imDir', 'img1'),
            im_ext=sec.get('imExt', '.jpg'),
        )
    except (KeyError, ValueError, configparser.Error) as exc:
        raise MotFormatError(f'{path}: malformed seqinfo.ini ({exc}); expected [Sequence] with '
                             'seqLength, imWidth, imHeight, frameRate') from None


def write_seqinfo(seq_dir: str, info: SeqInfo) -> None:
    """Write ``SEQ/seqinfo.ini`` in the MOTChallenge spelling."""
    parser = configparser.ConfigParser()
    parser.optionxform = str  # keep camelCase keys as MOTChallenge spells them
    parser['Sequence'] = {
        'name': info.name, 'imDir': info.im_dir, 'frameRate': f'{info.frame_rate:g}',
        'seqLength': str(info.length), 'imWidth': str(info.width), 'imHeight': str(info.height),
        'imExt': info.im_ext,
    }
    os.makedirs(seq_dir, exist_ok=True)
    with open(os.path.join(seq_dir, 'seqinfo.ini'), 'w', encoding='utf8') as f:
        parser.write(f, space_around_delimiters=False)


def load_table(path: str, min_columns: int = 7) -> np.ndarray:
    """Load a comma-separated MOT text file as an ``(N, C) float64`` array (C >= min_columns)."""
    if not os.path.isfile(path):
        raise MotFormatError(f'{path}: not found')
    try:
        with warnings.catch_warnings():  # an empty file is a valid result (nothing tracked)
            warnings.filterwarnings('ignore', message='loadtxt: input contained no data')
            table = np.loadtxt(path, delimiter=',', ndmin=2, dtype=np.float64)
    except ValueError as exc:
        raise MotFormatError(f'{path}: not a comma-separated MOTChallenge file ({exc})') from None
    if table.size == 0:
        return np.zeros((0, min_columns))
    if table.shape[1] < min_columns:
        raise MotFormatError(f'{path}: {table.shape[1]} columns, expected at least {min_columns} '
                             '(frame,id,x,y,w,h,score,...)')
    return table


def group_by_frame(table: np.ndarray, num_frames: int) -> List[FrameBoxes]:
    """Split a MOT table into per-frame boxes (index 0 = frame 1); rows outside 1..num_frames are dropped."""
    cols = table.shape[1] if table.ndim == 2 else 0
    frames = table[:, 0].astype(np.int64) if len(table) else np.zeros(0, np.int64)
    order = np.argsort(frames, kind='stable')
    table, frames = table[order], frames[order]
    starts = np.searchsorted(frames, np.arange(1, num_frames + 2))
    out = []
    for f in range(num_frames):
        rows = table[starts[f]:starts[f + 1]]
        out.append(FrameBoxes(
            boxes=xywh_to_xyxy(rows[:, 2:6]).astype(np.float32),
            scores=rows[:, 6].astype(np.float32) if cols > 6 else np.ones(len(rows), np.float32),
            ids=rows[:, 1].astype(np.int64),
            # MOT det files put -1 in the class column; the single MOT class maps to class 0.
            class_ids=np.maximum(rows[:, 7], 0).astype(np.int64) if cols > 7 else np.zeros(len(rows), np.int64),
            visibility=rows[:, 8].astype(np.float32) if cols > 8 else np.ones(len(rows), np.float32),
        ))
    return out


def read_detections(seq_dir: str, num_frames: Optional[int] = None) -> List[FrameBoxes]:
    """Per-frame detections of ``SEQ/det/det.txt`` (boxes xyxy, scores, class 0)."""
    if num_frames is None:
        num_frames = read_seqinfo(seq_dir).length
    table = load_table(os.path.join(seq_dir, 'det', 'det.txt'))
    table = table[:, :7]  # class columns of det files are -1 or detector-specific: ignore them
    return group_by_frame(table, num_frames)


def read_ground_truth(seq_dir: str, num_frames: Optional[int] = None) -> List[FrameBoxes]:
    """Per-frame ground truth of ``SEQ/gt/gt.txt`` (ids, boxes xyxy, considered flag as score, visibility)."""
    if num_frames is None:
        num_frames = read_seqinfo(seq_dir).length
    return group_by_frame(load_table(os.path.join(seq_dir, 'gt', 'gt.txt'), min_columns=6), num_frames)


def write_ground_truth(path: str, frames, ids, boxes_xyxy, visibility, considered=None, classes=None) -> None:
    """Write ground truth ``frame,id,x,y,w,h,considered,class,visibility`` (MOT16/17 spelling)."""
    n = len(frames)
    considered = np.ones(n) if considered is None else considered
    classes = np.ones(n) if classes is None else classes  # 1 = pedestrian
    write_rows(path, frames, ids, boxes_xyxy, np.stack([considered, classes, visibility], axis=1))


def frame_path(seq_dir: str, info: SeqInfo, frame: int) -> str:
    """Path of the image of 1-based ``frame``."""
    return os.path.join(seq_dir, info.im_dir, f'{frame:06d}{info.im_ext}')


def read_frame(seq_dir: str, info: SeqInfo, frame: int) -> np.ndarray:
    """Load frame ``frame`` (1-based) as an HxWx3 uint8 RGB array."""
    path = frame_path(seq_dir, info, frame)
    image = read_rgb(path)
    if image is None:
        raise MotFormatError(f'{path}: missing or unreadable image (expected {info.im_dir}/NNNNNN{info.im_ext})')
    return image


def iter_frames(seq_dir: str, info: Optional[SeqInfo] = None) -> Iterator[Tuple[int, np.ndarray]]:
    """Yield ``(frame, image_rgb)`` for frames 1..seqLength."""
    info = info or read_seqinfo(seq_dir)
    for frame in range(1, info.length + 1):
        yield frame, read_frame(seq_dir, info, frame)


def find_sequences(root: str) -> Dict[str, str]:
    """Map sequence name -> folder for ``root`` itself or its sub-folders that hold a seqinfo.ini."""
    if os.path.isfile(os.path.join(root, 'seqinfo.ini')):
        return {os.path.basename(os.path.normpath(root)): root}
    if not os.path.isdir(root):
        raise MotFormatError(f'{root}: not a folder')
    seqs = {name: os.path.join(root, name) for name in sorted(os.listdir(root))
            if os.path.isfile(os.path.join(root, name, 'seqinfo.ini'))}
    if not seqs:
        raise MotFormatError(f'{root}: no MOTChallenge sequence (a folder with seqinfo.ini) in it or below it')
    return seqs
