"""Many bags at once: find them, run one job per bag on local worker processes or a Ray cluster.

The job is a plain picklable function of (bag, out_dir, options); each bag is processed exactly
as it would be alone (same function, same options), so its outputs are the same.
"""
import glob
import multiprocessing
import os
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from tqdm import tqdm

from perception_bringup.cli import UserError


def is_bag(path: Path) -> bool:
    """A rosbag2 directory (it has metadata.yaml)."""
    return (path / 'metadata.yaml').is_file()


def find_bags(inputs) -> list[Path]:
    """Bags named by `inputs`: bag directories, folders holding bags, glob patterns, or list
    files (one path or pattern a line, `#` comments); in the order given, each bag once."""
    found = []
    for item in inputs:
        text = str(item)
        if any(c in text for c in '*?['):
            matches = sorted(Path(p) for p in glob.glob(text, recursive=True))
            if not matches:
                raise UserError(f'{text} matches nothing')
            found += find_bags(matches)
            continue
        path = Path(text)
        if is_bag(path):
            found.append(path)
        elif path.is_dir():
            bags = sorted(p.parent for p in path.rglob('metadata.yaml'))
            if not bags:
                raise UserError(f'{path} holds no rosbag2 (no metadata.yaml below it)')
            found += bags
        elif path.is_file():
            lines = [ln.split('#')[0].strip() for ln in path.read_text().splitlines()]
            found += find_bags([path.parent / ln for ln in lines if ln])
        else:
            raise UserError(f'{path} is not a bag, a folder, a glob or a list file')
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return unique


def output_names(bags) -> list[str]:
    """One output folder name per bag: its directory name, made unique with a suffix."""
    names, seen = [], {}
    for bag in bags:
        seen[bag.name] = seen.get(bag.name, 0) + 1
        names.append(bag.name if seen[bag.name] == 1 else f'{bag.name}_{seen[bag.name]}')
    return names


def _guarded(job, bag, out_dir, options):
    """Run one job; a failure becomes a result with its error instead of ending the batch."""
    try:
        return job(bag, out_dir, options)
    except SystemExit as exc:  # a tool's user error inside the job
        return {'input_bag': str(bag), 'error': f'exit code {exc.code}'}
    except Exception as exc:  # noqa: BLE001 - reported per bag, the other bags go on
        return {'input_bag': str(bag), 'error': f'{type(exc).__name__}: {exc}',
                'traceback': traceback.format_exc()}


def run_local(job, tasks, workers: int, progress: bool = True) -> list[dict]:
    """Run `job(*task)` for every task on `workers` fresh processes; results in task order."""
    results = [None] * len(tasks)
    # spawn: a fresh interpreter per worker (no forked torch / DDS state).
    context = multiprocessing.get_context('spawn')
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(_guarded, job, *task): i for i, task in enumerate(tasks)}
        for future in tqdm(as_completed(futures), total=len(tasks), unit='bag', disable=not progress):
            results[futures[future]] = future.result()
    return results


def run_ray(job, tasks, address: str, workers: int, cpus_per_task: int,
            progress: bool = True) -> list[dict]:
    """The same on Ray: `address` 'local' starts a private instance with `workers` CPUs here;
    anything else (`auto`, `ray://host:10001`) joins that cluster, whose nodes must have this
    workspace installed at the same paths."""
    try:
        import ray
    except ImportError as exc:
        raise UserError('--ray-address needs the ray package (pip install ray)') from exc
    local = address == 'local'
    # Local workers inherit this environment (ROS libraries, workspace on PYTHONPATH).
    env = {k: v for k, v in os.environ.items()
           if k in ('PYTHONPATH', 'LD_LIBRARY_PATH', 'AMENT_PREFIX_PATH', 'PATH', 'RMW_IMPLEMENTATION',
                    '_ROS_WHEELS_BOOTSTRAP_COMPLETE', 'ROS_DOMAIN_ID', 'OMP_NUM_THREADS')}
    ray.init(address=None if local else address, num_cpus=workers * cpus_per_task if local else None,
             include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={'env_vars': env})
    try:
        remote = ray.remote(num_cpus=cpus_per_task, max_retries=0)(_guarded)
        pending = {remote.remote(job, *task): i for i, task in enumerate(tasks)}
        results = [None] * len(tasks)
        with tqdm(total=len(tasks), unit='bag', disable=not progress) as bar:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                results[pending.pop(done[0])] = ray.get(done[0])
                bar.update(1)
        return results
    finally:
        ray.shutdown()
