"""Read re-ID datasets: Market-1501 layout and folder-per-identity layout.

Market-1501: ``bounding_box_train/``, ``query/``, ``bounding_box_test/`` with files named
``PPPP_cCsS_FFFFFF_NN.jpg`` (person id, camera, sequence, frame, box). Standard protocol:
id -1 ("junk") images are ignored everywhere; id 0000 ("distractor") images are never
training identities or queries but stay in the gallery as negatives; at evaluation, gallery
entries with the query's id *and* camera are excluded (``metrics.py``).

Folder-per-identity: ``root/<id>/*.jpg`` for training, optionally ``root/train/<id>/``,
``root/query/<id>/`` and ``root/gallery/<id>/``. File names carry no camera, so every image
counts as its own camera (nothing is excluded at evaluation).
"""

import os
import re
from dataclasses import dataclass, field

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp')
MARKET_NAME = re.compile(r'^(-?\d+)_c(\d+)s(\d+)_(\d+)_(\d+)\.(?:jpg|jpeg|png|bmp)$', re.IGNORECASE)
JUNK_ID = -1
DISTRACTOR_ID = 0


class DatasetError(ValueError):
    """A dataset folder is missing or does not follow a supported layout."""


@dataclass(frozen=True)
class Sample:
    """One image: its path, person id (dataset's own numbering) and camera id (-1 unknown)."""

    path: str
    pid: int
    camid: int


@dataclass
class ReidDataset:
    """The splits of a re-ID dataset; ``query``/``gallery`` are empty when the set has none."""

    root: str
    layout: str
    train: list = field(default_factory=list)
    query: list = field(default_factory=list)
    gallery: list = field(default_factory=list)

    @property
    def has_eval(self):
        """True when both a query and a gallery split exist."""
        return bool(self.query) and bool(self.gallery)


def parse_market_name(filename):
    """Return (pid, camid) from a Market-1501 file name, or None if it does not match."""
    match = MARKET_NAME.match(os.path.basename(filename))
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))


def _images(folder):
    return sorted(f for f in os.listdir(folder) if f.lower().endswith(IMAGE_EXTENSIONS))


def read_market_split(folder, split):
    """Read one Market-1501 folder; ``split`` is 'train', 'query' or 'gallery' (junk rules differ)."""
    samples = []
    for name in _images(folder):
        parsed = parse_market_name(name)
        if parsed is None:
            raise DatasetError(
                f'{os.path.join(folder, name)}: expected a Market-1501 name like 0001_c1s1_001051_00.jpg')
        pid, camid = parsed
        if pid == JUNK_ID or (pid == DISTRACTOR_ID and split != 'gallery'):
            continue
        samples.append(Sample(os.path.join(folder, name), pid, camid))
    return samples


def read_identity_folders(root):
    """Read ``root/<id>/*.jpg``; the id is the folder name (numeric or not), cameras unknown."""
    samples = []
    for identity in sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d))):
        folder = os.path.join(root, identity)
        pid = int(identity) if identity.lstrip('-').isdigit() else identity
        samples.extend(Sample(os.path.join(folder, name), pid, -1) for name in _images(folder))
    return samples


def load_dataset(root):
    """Detect the layout of ``root`` and read all its splits; DatasetError when unusable."""
    if not os.path.isdir(root):
        raise DatasetError(f'{root}: dataset folder not found')
    market = {split: os.path.join(root, name) for split, name in
              (('train', 'bounding_box_train'), ('query', 'query'), ('gallery', 'bounding_box_test'))}
    if any(os.path.isdir(p) and split != 'query' for split, p in market.items()):
        dataset = ReidDataset(root, 'market1501')
        for split, path in market.items():
            if os.path.isdir(path):
                setattr(dataset, split, read_market_split(path, split))
    elif os.path.isdir(os.path.join(root, 'query')) and os.path.isdir(os.path.join(root, 'gallery')):
        train_root = os.path.join(root, 'train')
        dataset = ReidDataset(
            root, 'folders',
            train=read_identity_folders(train_root) if os.path.isdir(train_root) else [],
            query=read_identity_folders(os.path.join(root, 'query')),
            gallery=read_identity_folders(os.path.join(root, 'gallery')),
        )
    else:
        dataset = ReidDataset(root, 'folders', train=read_identity_folders(root))
    if not (dataset.train or dataset.has_eval):
        raise DatasetError(
            f'{root}: no images found; expected Market-1501 folders (bounding_box_train/, query/, '
            'bounding_box_test/) or one folder per identity (root/<id>/*.jpg)'
        )
    return dataset
