"""Surviving a detector crash: SIGKILL detector_node mid-bag in perception-run-graph, measured.

Each run starts the graph (respawn on, HOG people detector, config of
``perception_bringup.testing.write_people_config``) on a bag of synthetic walking people, plays
it at ``--rate`` of its 10 Hz camera rate, kills the detector after ``--kill-after`` tracks
messages and reports (``perception_bringup.crash_run``): frames without detections, tracks
messages with coasted (``predicted``) tracks during the outage and their rate against the camera
rate, the time from the kill to the first matched track after the restart (includes the
``graph_spec.RESPAWN_DELAY_S`` respawn delay, the process start and the model load), and the
share of the people matched in the second before the kill that were matched again with the same
id. Prints a markdown table, writes benchmarks/results/crash.json.

    python benchmarks/bench_crash.py                  # 3 runs
    python benchmarks/bench_crash.py --runs 1 --rate 0.5
"""
import argparse
import dataclasses
import json
import os
import platform
import re
import statistics
import tempfile
from pathlib import Path

from perception_bringup import graph_spec
from perception_bringup.crash_run import crash_during_bag
from perception_bringup.testing import FPS, START_S, people_bag, running_graph, write_people_config

RESULTS = Path(__file__).resolve().parent / 'results'


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--frames', type=int, default=150, help='bag length in frames (10 Hz)')
    parser.add_argument('--objects', type=int, default=2, help='people in the bag')
    parser.add_argument('--seed', type=int, default=2,
                        help='perception-make-mot seed (2: HOG finds people in most of 150 frames)')
    parser.add_argument('--kill-after', type=int, default=40, help='tracks messages before the kill')
    parser.add_argument('--rate', type=float, default=0.5,
                        help='playback rate (0.5 = 5 Hz camera, about what HOG keeps up with here)')
    parser.add_argument('--out', type=Path, default=RESULTS / 'crash.json')
    return parser.parse_args(argv)


def one_run(args, run, work):
    """The Outage of one graph, bag and kill."""
    bag = people_bag(work, frames=args.frames, objects=args.objects, seed=args.seed,
                     name=f'people{run}')
    config = write_people_config(work / f'people{run}.yaml')
    with running_graph(config) as graph:
        outage = crash_during_bag(graph, bag, args.frames, FPS, START_S, args.kill_after, args.rate)
    # Where the recovery time goes: the restarted detector's own configure (model load, warm-up).
    configures = re.findall(r'\[detector_node\].*configure: (\d+) ms', graph.output)
    return outage, int(configures[-1]) / 1000 if len(configures) > 1 else None


def main(argv=None):
    """Run, print the table, write the JSON."""
    args = parse_args(argv)
    outages = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            work = Path(tmp) / f'run{run}'
            work.mkdir()
            outages.append(one_run(args, run, work))
            print(outages[-1], flush=True)
    rows = [{**dataclasses.asdict(o), 'kept_share': o.kept_share, 'restart_configure_s': c}
            for o, c in outages]
    print(f'\n{args.frames} frames, {args.objects} people, camera {FPS * args.rate:g} Hz, '
          f'respawn delay {graph_spec.RESPAWN_DELAY_S:g} s\n')
    print('| run | frames without detections | tracks messages during the outage / camera rate '
          '| of them with predictions '
          '| kill → first matched track (of it: configure) | ids kept |')
    print('|---|---|---|---|---|---|')
    for i, r in enumerate(rows):
        print(f"| {i + 1} | {r['frames_without_detections']} of {r['frames_total']} "
              f"| {r['outage_rate_hz']:.1f} / {r['camera_rate_hz']:.1f} Hz | {r['predicted_messages']} "
              f"| {r['recovery_s']:.1f} s ({r['restart_configure_s'] or 0:.1f} s) "
              f"| {r['ids_kept']} of {r['ids_before']} |")
    summary = {'median_recovery_s': statistics.median(r['recovery_s'] for r in rows),
               'median_outage_rate_hz': statistics.median(r['outage_rate_hz'] for r in rows),
               'ids_kept': sum(r['ids_kept'] for r in rows),
               'ids_before': sum(r['ids_before'] for r in rows)}
    print(f"\nmedian recovery {summary['median_recovery_s']:.2f} s, tracks during the outage at "
          f"{summary['median_outage_rate_hz']:.1f} Hz, ids kept {summary['ids_kept']} of "
          f"{summary['ids_before']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({'conditions': {**{k: str(v) for k, v in vars(args).items()},
                                                   'cpus': os.cpu_count(),
                                                   'machine': platform.machine()},
                                    'runs': rows, 'summary': summary}, indent=2) + '\n')


if __name__ == '__main__':
    main()
