"""Evaluate an embedder on a re-ID dataset's query/gallery split: rank-1, rank-5, mAP.

Usage: ``perception-eval-reid --data DIR (--weights CKPT | --embedder NAME) [--json]``.
"""

import argparse
import json
import sys

import numpy as np
from tqdm import tqdm

from perception_deepsort.reid.checkpoints import ReidWeightsError
from perception_deepsort.training.market1501 import DatasetError, load_dataset
from perception_deepsort.training.metrics import cosine_distance, evaluate_ranking
from perception_ros_glue.image_files import read_rgb


def read_sample(path):
    """A dataset image as HxWx3 uint8 RGB; DatasetError if it cannot be decoded."""
    image = read_rgb(path)
    if image is None:
        raise DatasetError(f'{path}: cannot be read as an image')
    return image


def embed_samples(embedder, samples, batch_size=64, desc='embedding', progress=True):
    """Return (N, dim) features of the samples' images, embedded in batches."""
    chunks = [np.zeros((0, embedder.dim), np.float32)]
    for start in tqdm(range(0, len(samples), batch_size), desc=desc, disable=not progress, leave=False):
        batch = samples[start:start + batch_size]
        chunks.append(embedder.embed_crops([read_sample(s.path) for s in batch]))
    return np.concatenate(chunks)


def evaluate_embedder(embedder, dataset, batch_size=64, progress=True):
    """Return rank-1, rank-5 and mAP of ``embedder`` on a ReidDataset's query/gallery split."""
    if not dataset.has_eval:
        raise DatasetError(f'{dataset.root}: no query/gallery split to evaluate on')
    query = embed_samples(embedder, dataset.query, batch_size, 'query', progress)
    gallery = embed_samples(embedder, dataset.gallery, batch_size, 'gallery', progress)
    return evaluate_ranking(
        cosine_distance(query, gallery),
        [s.pid for s in dataset.query], [s.camid for s in dataset.query],
        [s.pid for s in dataset.gallery], [s.camid for s in dataset.gallery],
    )


def format_table(rows):
    """Return a markdown table of {'embedder', 'rank1', 'rank5', 'mAP', 'num_queries'} rows."""
    lines = ['| embedder | rank-1 | rank-5 | mAP | queries |', '|---|---:|---:|---:|---:|']
    lines += [f"| {r['embedder']} | {r['rank1']:.3f} | {r['rank5']:.3f} | {r['mAP']:.3f} | {r['num_queries']} |"
              for r in rows]
    return '\n'.join(lines)


def main(argv=None):
    """Command line entry point of perception-eval-reid."""
    from perception_deepsort.reid.embedders import create_embedder

    parser = argparse.ArgumentParser(description='Rank-1, rank-5 and mAP of a re-ID embedder on query/gallery.')
    parser.add_argument('--data', required=True, help='dataset root (Market-1501 layout or query/ + gallery/ folders)')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--weights', help="checkpoint from perception-train-reid (uses embedder 'cnn')")
    source.add_argument('--embedder', choices=('mobilenetv2', 'histogram'), help='a built-in embedder')
    parser.add_argument('--device', default='auto', help='auto | cpu | cuda | cuda:N (default auto)')
    parser.add_argument('--batch-size', type=int, default=64, help='images per forward pass (default 64)')
    parser.add_argument('--json', metavar='FILE', help="also write the metrics as JSON ('-' for stdout)")
    args = parser.parse_args(argv)
    try:
        dataset = load_dataset(args.data)
        embedder = create_embedder('cnn' if args.weights else args.embedder, args.weights, args.device)
        metrics = evaluate_embedder(embedder, dataset, args.batch_size)
    except (DatasetError, ReidWeightsError, ValueError) as exc:
        print(f'perception-eval-reid: error: {exc}', file=sys.stderr)
        return 2
    row = {'embedder': args.weights or args.embedder, **metrics}
    print(format_table([row]))
    if args.json == '-':
        print(json.dumps(row, indent=2))
    elif args.json:
        with open(args.json, 'w', encoding='utf-8') as f:
            json.dump(row, f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
