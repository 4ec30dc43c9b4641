"""Train the DeepSORT descriptor network (cosine softmax) on a re-ID dataset.

Usage: ``perception-train-reid --data DIR --out RUN_DIR [--epochs E --batch-size B --lr LR
--input-size H W --width C --resume CKPT --device auto --workers N]``. Writes ``RUN_DIR/last.pt`` and ``best.pt`` every
epoch, ``metrics.csv``, ``metrics.json`` and ``curves.png``; evaluates rank-1/mAP on the
query/gallery split when the dataset has one.
"""

import argparse
import csv
import json
import os
import random
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2
from tqdm import tqdm

from perception_deepsort.reid.checkpoints import (
    PAPER_WIDTH, ReidWeightsError, build_training_model, default_config, load_checkpoint, save_checkpoint,
)
from perception_deepsort.reid.embedders import TorchEmbedder, resolve_device
from perception_deepsort.training.evaluate import evaluate_embedder, read_sample
from perception_deepsort.training.market1501 import DatasetError, load_dataset
from perception_deepsort.training.plots import plot_training_curves


class ReidTrainSet(Dataset):
    """Training images with augmentation (flip, shifted crop, colour jitter) and class labels."""

    def __init__(self, samples, labels, config, augment=True):
        self.samples = samples
        self.labels = labels
        size = tuple(config['input_size'])
        steps = [v2.ToImage(), v2.Resize(size, antialias=True)]
        if augment:
            steps += [
                v2.RandomHorizontalFlip(),
                v2.RandomCrop(size, padding=(size[1] // 8, size[0] // 16), padding_mode='edge'),
                v2.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3, hue=0.03),
            ]
        steps += [v2.ToDtype(torch.float32, scale=True), v2.Normalize(config['mean'], config['std'])]
        self.transform = v2.Compose(steps)

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        sample = self.samples[index]
        return self.transform(read_sample(sample.path)), self.labels[sample.pid]


def seed_everything(seed):
    """Seed Python, NumPy and torch generators."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def run_epoch(model, loader, optimizer, device, desc):
    """Train one epoch; return (mean loss, accuracy)."""
    model.train()
    criterion = nn.CrossEntropyLoss()
    total_loss, correct, seen = 0.0, 0, 0
    bar = tqdm(loader, desc=desc, leave=False)
    for images, labels in bar:
        images = images.to(device).contiguous(memory_format=torch.channels_last)
        labels = labels.to(device)
        _, logits = model(images)
        loss = criterion(logits, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(labels)
        correct += (logits.argmax(1) == labels).sum().item()
        seen += len(labels)
        bar.set_postfix(loss=f'{total_loss / seen:.3f}', acc=f'{correct / seen:.3f}')
    return total_loss / max(seen, 1), correct / max(seen, 1)


def evaluate_model(model, config, dataset, device):
    """Return rank-1/rank-5/mAP of the model's descriptor on the dataset's query/gallery split."""
    embedder = TorchEmbedder(model.net, config['input_size'], config['feature_dim'], device, half=False,
                             mean=config['mean'], std=config['std'])
    return evaluate_embedder(embedder, dataset, progress=False)


def write_metrics(out_dir, history, final):
    """Write metrics.csv (one row per epoch) and metrics.json (history + final evaluation)."""
    fields = ['epoch', 'loss', 'accuracy', 'rank1', 'rank5', 'mAP', 'lr', 'seconds']
    with open(os.path.join(out_dir, 'metrics.csv'), 'w', newline='', encoding='utf-8') as f:
        writer = csv.DictWriter(f, fields, extrasaction='ignore')
        writer.writeheader()
        writer.writerows(history)
    with open(os.path.join(out_dir, 'metrics.json'), 'w', encoding='utf-8') as f:
        json.dump({'history': history, 'final': final}, f, indent=2)


def train(data, out, epochs=30, batch_size=64, lr=1e-3, weight_decay=1e-4, resume=None, device='auto',
          workers=0, seed=0, eval_every=1, input_size=(128, 64), width=PAPER_WIDTH):
    """Train (or resume) and return {'best': path, 'last': path, 'history': [...], 'final': {...}}."""
    seed_everything(seed)
    device = resolve_device(device)
    dataset = load_dataset(data)
    if not dataset.train:
        raise DatasetError(f'{data}: no training images (bounding_box_train/ or <id>/ folders)')
    pids = sorted({s.pid for s in dataset.train}, key=str)
    labels = {pid: i for i, pid in enumerate(pids)}
    os.makedirs(out, exist_ok=True)

    start_epoch, history, best_score = 1, [], -1.0
    if resume:
        checkpoint = load_checkpoint(resume)
        config = checkpoint['config']
        if config['num_classes'] != len(pids):
            raise ReidWeightsError(f"{resume}: trained on {config['num_classes']} identities, {data} has {len(pids)}")
    else:
        config = default_config(len(pids), input_size=input_size, width=width)
    model = build_training_model(config).to(device, memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    if resume:
        model.load_state_dict(checkpoint['state_dict'])
        if checkpoint.get('optimizer'):
            optimizer.load_state_dict(checkpoint['optimizer'])
        start_epoch = checkpoint['epoch'] + 1
        history = list(checkpoint.get('history', []))
        best_score = float(checkpoint.get('best_score', -1.0))

    shuffle = torch.Generator()
    loader = DataLoader(ReidTrainSet(dataset.train, labels, config), batch_size=batch_size, shuffle=True,
                        num_workers=workers, drop_last=len(dataset.train) > batch_size, generator=shuffle)
    paths = {'last': os.path.join(out, 'last.pt'), 'best': os.path.join(out, 'best.pt')}
    for epoch in tqdm(range(start_epoch, epochs + 1), desc='epochs', initial=start_epoch - 1, total=epochs):
        started = time.perf_counter()
        # Per-epoch seeds make a resumed run repeat exactly what an uninterrupted one would do.
        shuffle.manual_seed(seed * 100_003 + epoch)
        torch.manual_seed(seed * 100_003 + epoch)
        loss, accuracy = run_epoch(model, loader, optimizer, device, f'epoch {epoch}')
        row = {'epoch': epoch, 'loss': loss, 'accuracy': accuracy, 'lr': optimizer.param_groups[0]['lr']}
        if dataset.has_eval and (epoch % eval_every == 0 or epoch == epochs):
            row.update(evaluate_model(model, config, dataset, device))
        row['seconds'] = time.perf_counter() - started
        history.append(row)
        tqdm.write(' '.join(f'{k}={v:.4f}' if isinstance(v, float) else f'{k}={v}' for k, v in row.items()))
        # Best by query/gallery mAP when the dataset has that split (only evaluated epochs
        # compete), else by training accuracy.
        score = row.get('mAP') if dataset.has_eval else accuracy
        is_best = score is not None and score > best_score
        if is_best:
            best_score = score
        extra = {'history': history, 'best_score': best_score, 'class_ids': [str(p) for p in pids]}
        save_checkpoint(paths['last'], model, config, epoch, optimizer, **extra)
        if is_best:
            save_checkpoint(paths['best'], model, config, epoch, optimizer, **extra)
    final = {}
    if dataset.has_eval and history:
        final = {k: history[-1][k] for k in ('rank1', 'rank5', 'mAP', 'num_queries') if k in history[-1]}
    write_metrics(out, history, final)
    if history:
        plot_training_curves(history, os.path.join(out, 'curves.png'))
    return {**paths, 'history': history, 'final': final}


def main(argv=None):
    """Command line entry point of perception-train-reid."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', required=True, help='dataset root (Market-1501 layout or <id>/ folders)')
    parser.add_argument('--out', required=True, help='run folder for checkpoints, metrics and curves')
    parser.add_argument('--epochs', type=int, default=30, help='total number of epochs (default 30)')
    parser.add_argument('--batch-size', type=int, default=64, help='batch size (default 64)')
    parser.add_argument('--lr', type=float, default=1e-3, help='Adam learning rate (default 1e-3)')
    parser.add_argument('--weight-decay', type=float, default=1e-4, help='Adam weight decay (default 1e-4)')
    parser.add_argument('--resume', metavar='CKPT', help='continue from a checkpoint (epochs, optimizer, history)')
    parser.add_argument('--device', default='auto', help='auto | cpu | cuda | cuda:N (default auto)')
    parser.add_argument('--workers', type=int, default=0, help='data-loading worker processes (default 0)')
    parser.add_argument('--eval-every', type=int, default=1, help='evaluate on query/gallery every N epochs')
    parser.add_argument('--input-size', type=int, nargs=2, default=(128, 64), metavar=('H', 'W'),
                        help='network input height and width, multiples of 8 (default 128 64, the paper\'s)')
    parser.add_argument('--width', type=int, default=PAPER_WIDTH,
                        help='channels of the first layer, doubled twice deeper (default 32, the paper\'s)')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default 0)')
    args = parser.parse_args(argv)
    if args.input_size[0] % 8 or args.input_size[1] % 8:
        parser.error('--input-size values must be multiples of 8')
    try:
        result = train(args.data, args.out, args.epochs, args.batch_size, args.lr, args.weight_decay,
                       args.resume, args.device, args.workers, args.seed, args.eval_every, tuple(args.input_size),
                       args.width)
    except (DatasetError, ReidWeightsError, ValueError) as exc:
        print(f'perception-train-reid: error: {exc}', file=sys.stderr)
        return 2
    print(f"checkpoints: {result['last']} (last), {result['best']} (best)")
    if result['final']:
        print('final: ' + ', '.join(f'{k} {v:.3f}' if isinstance(v, float) else f'{k} {v}'
                                   for k, v in result['final'].items()))
    return 0


if __name__ == '__main__':
    sys.exit(main())
