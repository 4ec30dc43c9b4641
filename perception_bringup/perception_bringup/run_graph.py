"""perception-run-graph: run the tracking graph of the launch file, each node in its own process.

The nodes come from `graph_spec` (the launch file's own description) and read the same YAML
parameter file. Their output is forwarded with a `[node]` prefix. A respawning node
(detector_node, tracker_node) that dies is restarted after `graph_spec.RESPAWN_DELAY_S`, like the
launch file's `respawn`, and its restarts are counted; one that exits with code 1 (a configuration
error, which a restart cannot fix) or any other node that dies stops the graph. Ctrl-C or SIGTERM
stops them in order: SIGINT to each, then SIGTERM and SIGKILL for any that outlive the timeout.
The exit code is non-zero when a node died on its own or had to be killed.
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from ament_index_python.packages import PackageNotFoundError, get_package_prefix

from perception_bringup import graph_spec, profiles
from perception_bringup.cli import UserError, user_errors
from perception_bringup.processes import CLEAN_EXIT, stop_all

PROG = 'perception-run-graph'


def add_graph_arguments(parser):
    """The graph options shared by run-graph and the demo (same names as the launch arguments)."""
    parser.add_argument('--config', type=Path, default=graph_spec.DEFAULT_CONFIG,
                        help=f'ROS parameter file (default: {graph_spec.DEFAULT_CONFIG})')
    parser.add_argument('--image-topic', default=graph_spec.DEFAULT_IMAGE_TOPIC,
                        help=f'camera image topic (default: {graph_spec.DEFAULT_IMAGE_TOPIC})')
    parser.add_argument('--backend', default=None,
                        help='detector backend (maskrcnn, maskrcnn_v2, yolo, hog, auto); default: config')
    parser.add_argument('--weights', default=None, help='detector weights; default: config')
    parser.add_argument('--device', default=None, help='auto | cpu | cuda | cuda:N; default: config')
    parser.add_argument('--profile', default='auto',
                        help="parameter profile laid over --config: 'auto' (the one measured for the "
                             "detector's weights, if any), 'none', or a file")
    parser.add_argument('--use-sim-time', action='store_true', help='nodes follow /clock')
    parser.add_argument('--no-autostart', dest='autostart', action='store_false',
                        help='leave the managed nodes unconfigured for an external lifecycle '
                             'manager (default: they configure and activate themselves)')


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n')[0].split(': ', 1)[1])
    add_graph_arguments(parser)
    parser.add_argument('--cameras', default='', metavar='NAME:TOPIC,...',
                        help='several cameras, e.g. front:/front/image_raw,rear:/rear/image_raw '
                             '(a bare name is /<name>/image_raw): one detector_node + tracker_node '
                             'pair per camera in namespace /<name> (/front/tracks, ...); default: '
                             'one camera on --image-topic without namespace')
    parser.add_argument('--rviz', action='store_true', help='also start rviz2 (when installed)')
    parser.add_argument('--stop-timeout', type=float, default=20.0,
                        help='seconds a node gets to stop after SIGINT before SIGTERM (default 20)')
    parser.add_argument('--no-respawn', dest='respawn', action='store_false',
                        help='a node that dies stops the graph (default: detector_node and '
                             f'tracker_node restart after {graph_spec.RESPAWN_DELAY_S:g} s)')
    return parser.parse_args(argv)


def executable_path(spec):
    """Installed executable of a node, found the way `ros2 run` finds it."""
    try:
        prefix = get_package_prefix(spec.package)
    except PackageNotFoundError:
        raise UserError(f'package {spec.package} is not installed (run scripts/setup.sh, then '
                        'source scripts/env.sh)') from None
    path = Path(prefix) / 'lib' / spec.package / spec.executable
    if not os.access(path, os.X_OK):
        raise UserError(f'{path} is missing or not executable (rebuild with scripts/setup.sh)')
    return path


def graph_overrides(args):
    """The detector options given on the command line (they decide the profile too)."""
    return {'backend': args.backend, 'weights': args.weights, 'device': args.device}


def node_commands(args, params_dir):
    """(NodeSpec, argv) of every node of the graph the options describe; namespaced nodes'
    parameter files are written to ``params_dir`` (graph_spec.node_params_file)."""
    if not args.config.is_file():
        raise UserError(f'parameter file {args.config} does not exist')
    config = args.parameters = profiles.parameters_for(args.config, graph_overrides(args),
                                                       args.profile)
    try:
        cameras = graph_spec.parse_cameras(getattr(args, 'cameras', ''), args.image_topic)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    specs = graph_spec.graph(args.image_topic, args.backend, args.weights, args.device,
                             args.use_sim_time, getattr(args, 'rviz', False),
                             getattr(args, 'autostart', True), cameras)
    try:
        return [(s, [str(executable_path(s)), *s.arguments,
                     *graph_spec.ros_args(s, graph_spec.node_params_file(s, config, params_dir))])
                for s in specs]
    except ValueError as exc:  # no section of the file applies to a node
        raise UserError(str(exc)) from None


class NodeProcesses:
    """The running node processes, their prefixed output, and an orderly stop."""

    def __init__(self, commands, out=sys.stdout):
        self.out, self.lock = out, threading.Lock()
        self.procs, self.threads = {}, []
        # Keyed by the name without the leading '/': detector_node, front/detector_node.
        self.specs = {spec.full_name[1:]: (spec, argv) for spec, argv in commands}
        self.restarts = {name: 0 for name in self.specs}
        for name in self.specs:
            self.start(name)

    def start(self, name):
        """Start (or restart) one node's process."""
        argv = self.specs[name][1]
        # Own session: a terminal's Ctrl-C reaches only us, and we forward exactly one SIGINT.
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                env={**os.environ, 'PYTHONUNBUFFERED': '1'})
        self.procs[name] = proc
        thread = threading.Thread(target=self._forward, args=(name, proc), daemon=True)
        thread.start()
        self.threads.append(thread)

    def _forward(self, name, proc):
        """Copy one process's output lines, prefixed with its node name."""
        for line in iter(proc.stdout.readline, b''):
            with self.lock:
                self.out.write(f'[{name}] {line.decode(errors="replace")}')
                self.out.flush()

    def exited(self):
        """{name: exit code} of the processes that have ended."""
        return {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}

    def stop(self, timeout):
        """Stop every node (see processes.stop_all); returns the names that needed force."""
        forced = stop_all(self.procs, timeout)
        for thread in self.threads:
            thread.join(timeout=2.0)
        return forced


def run(args):
    """Start the graph, wait for Ctrl-C/SIGTERM or a node's death, stop; returns the exit code."""
    with tempfile.TemporaryDirectory(prefix='perception_params_') as params_dir:
        return _run(args, node_commands(args, params_dir))


def _run(args, commands):
    """run() with the node commands built."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    nodes = NodeProcesses(commands)
    print(f'{PROG}: started {", ".join(nodes.procs)} with {args.parameters}', flush=True)
    died = watch(nodes, stop, getattr(args, 'respawn', True))
    forced = nodes.stop(args.stop_timeout)
    for name, code in died.items():
        print(f'{PROG}: error: {name} exited with code {code} while the graph was running', flush=True)
    for name in forced:
        print(f'{PROG}: error: {name} did not stop after SIGINT within {args.stop_timeout:g} s; '
              'forced', flush=True)
    unclean = {n: p.returncode for n, p in nodes.procs.items()
               if n not in died and n not in forced and p.returncode not in CLEAN_EXIT}
    for name, code in unclean.items():
        print(f'{PROG}: error: {name} exited with code {code} when stopped', flush=True)
    if died or forced or unclean:
        return 1
    print(f'{PROG}: all nodes stopped cleanly', flush=True)
    return 0


def watch(nodes, stop, respawn=True):
    """Until ``stop`` is set: restart respawning nodes that died (not on exit code 1), after the
    delay; returns {name: exit code} of a node whose death stops the graph (empty on ``stop``)."""
    due = {}  # name -> monotonic time of its restart
    while not stop.wait(0.1):
        for name, code in nodes.exited().items():
            if name in due:
                continue
            if not (respawn and nodes.specs[name][0].respawn and code != 1):
                return {name: code}
            due[name] = time.monotonic() + graph_spec.RESPAWN_DELAY_S
            print(f'{PROG}: {name} died (exit code {code}); restarting in '
                  f'{graph_spec.RESPAWN_DELAY_S:g} s', flush=True)
        for name, when in list(due.items()):
            if time.monotonic() >= when:
                del due[name]
                nodes.restarts[name] += 1
                nodes.start(name)
                print(f'{PROG}: restarted {name} (restart {nodes.restarts[name]})', flush=True)
    return {}


def main(argv=None):
    """Entry point."""
    args = parse_args(argv)
    with user_errors(PROG):
        sys.exit(run(args))


if __name__ == '__main__':
    main()
