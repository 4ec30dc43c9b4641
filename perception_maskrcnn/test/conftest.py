"""Fixtures shared by the perception_maskrcnn tests: offline ultralytics, a trained synthetic checkpoint."""
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

# ultralytics must never touch the network in tests (it reads these at import time).
os.environ.setdefault('YOLO_OFFLINE', '1')

# A run small enough for a few CPU minutes that still learns the synthetic shapes well.
SYNTHETIC_DATA = dict(train=64, val=16, width=96, height=96, seed=0)
SYNTHETIC_TRAINING = ['--lite', '--epochs', '12', '--batch-size', '4', '--lr', '0.02', '--warmup-iters', '20',
                      '--min-size', '96', '--max-size', '96', '--box-batch-size', '64', '--workers', '0',
                      '--device', 'cpu', '--seed', '0']


@pytest.fixture(scope='session')
def synthetic_maskrcnn(tmp_path_factory):
    """Train once per session on a synthetic COCO dataset; returns paths of data, run and best checkpoint."""
    from perception_maskrcnn.training import train
    from perception_maskrcnn.training.synthetic_coco import make_dataset

    root = make_dataset(tmp_path_factory.mktemp('synthetic_coco'), **SYNTHETIC_DATA)
    run = tmp_path_factory.mktemp('maskrcnn_run')
    code = train.main(['--data-root', str(root), '--train-ann', str(root / 'instances_train.json'),
                       '--val-ann', str(root / 'instances_val.json'), '--out', str(run),
                       *SYNTHETIC_TRAINING])
    assert code == 0
    return SimpleNamespace(data_root=Path(root), train_ann=root / 'instances_train.json',
                           val_ann=root / 'instances_val.json', run=run, checkpoint=run / 'best.pt')
