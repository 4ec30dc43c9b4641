"""Per-weights parameter profiles: thresholds measured for one detector, laid over a parameter file.

A profile is a ROS parameter file with only the keys it changes (config/<name>.yaml).
``parameters_for`` is the one place that decides it, for every route: the launch file,
``perception-run-graph`` (and so the demo) and the offline tools pick the profile of the weights
file the detector will load (by SHA-256, before loading it: the profile may change how it is
loaded) and hand every node and tool the same merged file.
"""
import hashlib
import os
from pathlib import Path

import yaml

from perception_bringup.cli import UserError
from perception_bringup.graph_spec import CONFIG_DIR
from perception_maskrcnn.backends import person_checkpoint
from perception_maskrcnn.frame_detector import MODEL_PARAMETERS, resolve
from perception_ros_glue.param_file import read_node_parameters

# Weights SHA-256 -> profile; chosen by benchmarks/bench_person_profile.py.
PROFILES = {person_checkpoint.SHA256: CONFIG_DIR / 'person_fall_detection.yaml'}


def profile_for(weights):
    """The profile of a weights file (path), or None (no file, e.g. HOG or a release name)."""
    if weights is None or not Path(weights).is_file():
        return None
    return PROFILES.get(person_checkpoint.sha256_of(weights))


def _load(path):
    """A parameter file as a dict, or a UserError naming it."""
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f'cannot read parameter file {path}: {exc}') from None
    if not isinstance(data, dict):
        raise UserError(f'{path}: not a ROS parameter file (expected node sections)')
    return data


def parameters_dir():
    """Where merged parameter files are kept: ``$ROS_HOME/perception/parameters`` (``~/.ros``)."""
    return Path(os.environ.get('ROS_HOME') or '~/.ros').expanduser() / 'perception' / 'parameters'


def parameters_for(config, overrides=None, profile='auto', directory=None):
    """The parameter file every node and tool of a run reads: ``config`` itself, or with a
    profile laid over it. ``profile``: 'auto' (the one measured for the weights the detector
    would load from ``config`` and ``overrides`` (backend, weights, device)), 'none', or a file.
    The merged file is named by its content under ``directory`` (default ``parameters_dir()``):
    launches and respawns read it again, and it is written once."""
    config = Path(config)
    if profile == 'none':
        return config
    if profile == 'auto':
        params = {spec.name: spec.default for spec in MODEL_PARAMETERS}
        try:
            params.update(read_node_parameters(config, 'detector_node'))
        except (ValueError, OSError):  # no usable file: the nodes report it
            return config
        params.update({k: v for k, v in (overrides or {}).items() if v})
        try:
            weights = resolve(params)[1]
        except (ValueError, OSError, RuntimeError):  # bad weights: the detector says how to fix it
            return config
        profile = profile_for(weights)
        if profile is None:
            return config
    merged = merged_parameters(config, Path(profile))
    text = (f'# {config} with the profile {profile}\n'
            + yaml.safe_dump(merged, sort_keys=False))
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    path = Path(directory or parameters_dir()) / f'{config.stem}+{Path(profile).stem}-{digest}.yaml'
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f'.{os.getpid()}.tmp')
        temporary.write_text(text)
        temporary.replace(path)  # readers never see half a file
    return path


def merged_parameters(config, profile):
    """``config``'s node sections with ``profile``'s parameters laid over them."""
    merged = _load(config)
    for node, section in _load(profile).items():
        params = (section or {}).get('ros__parameters', {})
        target = merged.setdefault(node, {}).setdefault('ros__parameters', {})
        target.update(params)
    return merged
