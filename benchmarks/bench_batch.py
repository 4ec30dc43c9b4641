"""Bag archives in parallel: 4 short bags, serial vs a local pool of 2 vs a local Ray instance.

Each run is one `perception-process-bag` call over the same 4 bags (HOG detector, 1 thread per
bag, so the 2 jobs use the 2 cores); outputs must be identical whatever the engine. Prints a
markdown table and writes benchmarks/results/batch.json.

    python benchmarks/bench_batch.py                # 4 bags of 60 frames, 640x480
    python benchmarks/bench_batch.py --frames 20    # quicker look
"""
import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

from perception_bringup.testing import people_bag, write_people_config

RESULTS = Path(__file__).resolve().parent / 'results'
RUNS = {'serial (--jobs 1)': ['--jobs', '1'],
        'local pool (--jobs 2)': ['--jobs', '2'],
        'Ray, local instance (--jobs 2 --ray-address local)': ['--jobs', '2', '--ray-address', 'local']}


def main():
    """Make the bags, time each engine, compare outputs."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--frames', type=int, default=60, help='frames per bag (default 60)')
    parser.add_argument('--bags', type=int, default=4, help='bags (default 4)')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        archive = tmp / 'archive'
        archive.mkdir()
        for i in range(args.bags):
            people_bag(archive, frames=args.frames, name=f'drive{i}')
        config = write_people_config(tmp / 'people.yaml')
        rows, outputs = {}, {}
        for name, options in RUNS.items():
            out = tmp / f'out{len(rows)}'
            start = time.perf_counter()
            run = subprocess.run(['perception-process-bag', str(archive), '--out-dir', str(out),
                                  '--config', str(config), '--threads', '1', *options],
                                 capture_output=True, text=True)
            wall = time.perf_counter() - start
            if run.returncode != 0:
                raise SystemExit(f'{name} failed:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}')
            outputs[name] = [(out / f'drive{i}' / 'tracks.txt').read_bytes() for i in range(args.bags)]
            rows[name] = {'wall_s': wall, 'load_before': os.getloadavg()[0]}
            print(f'{name}: {wall:.1f} s', flush=True)
    serial = rows['serial (--jobs 1)']['wall_s']
    for row in rows.values():
        row['vs_serial'] = row['wall_s'] / serial
    identical = all(o == outputs['serial (--jobs 1)'] for o in outputs.values())
    result = {'bags': args.bags, 'frames_per_bag': args.frames, 'runs': rows,
              'identical_outputs': identical,
              'machine': {'cpus': os.cpu_count(), 'platform': platform.platform()}}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / 'batch.json').write_text(json.dumps(result, indent=2) + '\n')
    print(f'\n{args.bags} bags x {args.frames} frames (640x480, HOG, 1 thread per bag); '
          f'identical tracks files across engines: {identical}\n')
    print('| engine | wall s | vs serial |\n|---|---:|---:|')
    for name, row in rows.items():
        print(f'| {name} | {row["wall_s"]:.1f} | {row["vs_serial"]:.2f} |')


if __name__ == '__main__':
    main()
