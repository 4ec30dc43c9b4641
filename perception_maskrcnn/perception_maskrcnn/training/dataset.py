"""COCO-format instance segmentation data for torchvision detection models (via pycocotools)."""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import torch
from pycocotools.coco import COCO

from perception_ros_glue.image_files import read_rgb


def load_coco(ann_file) -> COCO:
    """pycocotools COCO index of an instances JSON, without its chatter, with a clear error."""
    ann_file = Path(ann_file)
    if not ann_file.is_file():
        raise FileNotFoundError(f'annotation file not found: {ann_file} (expected a COCO instances JSON)')
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            return COCO(str(ann_file))
        except Exception as error:
            raise ValueError(f'{ann_file}: not a readable COCO instances JSON ({error})') from error


def read_image(path: Path) -> np.ndarray:
    """An image file of the dataset as HxWx3 uint8 RGB, with an error naming the file."""
    image = read_rgb(path)
    if image is None:
        raise FileNotFoundError(f'cannot read image {path}')
    return image


class CocoInstances(torch.utils.data.Dataset):
    """Images and Mask R-CNN targets; labels are 1..K over the sorted COCO category ids."""

    def __init__(self, root, ann_file, train: bool = False):
        """Index ``ann_file``; images are ``root/file_name``; ``train`` adds horizontal flips."""
        self.root = Path(root)
        self.coco = load_coco(ann_file)
        self.image_ids = sorted(self.coco.imgs)
        self.category_ids = sorted(self.coco.getCatIds())
        self.class_names = ['__background__'] + [self.coco.cats[c]['name'] for c in self.category_ids]
        self.label_of_category = {c: i + 1 for i, c in enumerate(self.category_ids)}
        self.train = train

    def __len__(self) -> int:
        """Number of images."""
        return len(self.image_ids)

    def image(self, index: int) -> np.ndarray:
        """The RGB image at ``index``."""
        return read_image(self.root / self.coco.imgs[self.image_ids[index]]['file_name'])

    def __getitem__(self, index: int):
        """``(image float CHW in [0,1], target dict)`` as torchvision detection models take them."""
        image = self.image(index)
        anns = [a for a in self.coco.imgToAnns[self.image_ids[index]]
                if not a.get('iscrowd', 0) and a['bbox'][2] >= 1 and a['bbox'][3] >= 1]
        boxes = np.array([a['bbox'] for a in anns], np.float32).reshape(-1, 4)
        boxes[:, 2:] += boxes[:, :2]
        masks = np.array([self.coco.annToMask(a) for a in anns], np.uint8).reshape(-1, *image.shape[:2])
        labels = np.array([self.label_of_category[a['category_id']] for a in anns], np.int64)
        if self.train and torch.rand(()) < 0.5:
            image, masks = image[:, ::-1], masks[:, :, ::-1]
            boxes[:, [0, 2]] = image.shape[1] - boxes[:, [2, 0]]
        tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float() / 255.0
        target = {'boxes': torch.from_numpy(boxes), 'labels': torch.from_numpy(labels),
                  'masks': torch.from_numpy(np.ascontiguousarray(masks)),
                  'image_id': self.image_ids[index]}
        return tensor, target


def collate(batch):
    """Keep images and targets as lists: detection models take variable-size inputs."""
    return tuple(zip(*batch))
