"""detector_node's configure -> activate time over the real lifecycle services, per backend.

Starts ``detector_node --ros-args -p autostart:=false`` for each backend, waits for its lifecycle
services, then times the ``configure`` call (model loading and one warm-up inference on a blank
640x480 frame) and the ``activate`` call as a client sees them; repeats, prints a markdown table
and writes benchmarks/results/lifecycle.json.

Backends: ``hog`` (the fallback), ``yolo`` with the people checkpoint ``scripts/setup.sh``
fetched into ``weights/`` (OpenVINO runtime on the CPU, export cached beside the weights), and
``maskrcnn`` with randomly initialised weights (``allow_random_init``: same architecture and
load path as COCO weights minus reading the file; no COCO weights exist here).

    python benchmarks/bench_lifecycle.py              # 3 runs per backend
    python benchmarks/bench_lifecycle.py --runs 1 --backends hog
"""
import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / 'results'
ROOT = Path(__file__).resolve().parents[1]


def backend_args(backend):
    """``-p`` arguments of one benchmarked backend; None when it cannot run here."""
    if backend == 'hog':
        return ['-p', 'backend:=hog']
    if backend == 'yolo':
        weights = sorted((ROOT / 'weights').glob('*.pt'))
        if not weights:
            return None
        return ['-p', 'backend:=yolo', '-p', f'weights:={weights[0]}', '-p', 'device:=cpu']
    if backend == 'maskrcnn':
        return ['-p', 'backend:=maskrcnn', '-p', 'allow_random_init:=true', '-p', 'device:=cpu']
    raise ValueError(backend)


def measure(backend, args, run):
    """(configure s, activate s) of one fresh detector_node process."""
    from perception_ros_glue.ros_testing import (LifecycleClient, NodeProcess, close_test_node,
                                                 make_test_node)
    name = f'bench_lc_{backend}_{run}'
    proc = NodeProcess('detector_node', ['-r', f'__node:={name}', '-p', 'autostart:=false', *args])
    context, node, executor = make_test_node(f'bench_lifecycle_{run}')
    try:
        client = LifecycleClient(node, executor, f'/{name}')
        if not client.wait_for_services(120.0):
            raise RuntimeError(f'{name} did not come up:\n{proc.output()}')
        start = time.perf_counter()
        ok = client.transition('configure', timeout=600.0)
        configure_s = time.perf_counter() - start
        if not ok:
            raise RuntimeError(f'configure failed:\n{proc.output()}')
        start = time.perf_counter()
        ok = client.transition('activate', timeout=60.0)
        activate_s = time.perf_counter() - start
        if not ok:
            raise RuntimeError(f'activate failed:\n{proc.output()}')
        describe = [line for line in proc.output().splitlines() if 'detector:' in line]
        return configure_s, activate_s, describe[-1].split('detector: ', 1)[-1] if describe else ''
    finally:
        close_test_node(context, node, executor)
        proc.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--backends', nargs='+', default=['hog', 'yolo', 'maskrcnn'])
    args = parser.parse_args()
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    rows = []
    for backend in args.backends:
        extra = backend_args(backend)
        if extra is None:
            print(f'{backend}: skipped (no weights in weights/)')
            continue
        runs = [measure(backend, extra, i) for i in range(args.runs)]
        total = [c + a for c, a, _ in runs]
        rows.append({'backend': backend, 'detector': runs[-1][2], 'runs': len(runs),
                     'configure_s': [round(c, 3) for c, _, _ in runs],
                     'activate_s': [round(a, 3) for _, a, _ in runs],
                     'median_configure_activate_s': round(statistics.median(total), 3),
                     'max_configure_activate_s': round(max(total), 3)})
        print(f'{backend}: median {statistics.median(total):.2f} s, max {max(total):.2f} s')
    print('\n| backend | configure → active, median (max) | detector |\n|---|---|---|')
    for r in rows:
        print(f"| {r['backend']} | {r['median_configure_activate_s']:.2f} s "
              f"({r['max_configure_activate_s']:.2f} s) | {r['detector']} |")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / 'lifecycle.json'
    out.write_text(json.dumps({'machine': platform.machine(), 'cpus': os.cpu_count(),
                               'load_1min': os.getloadavg()[0], 'results': rows}, indent=2) + '\n')
    print(f'wrote {out}')


if __name__ == '__main__':
    main()
