"""Per-weights parameter profiles: thresholds measured for one detector, laid over a parameter file.

A profile is a ROS parameter file with only the keys it changes (config/<name>.yaml). The
demo picks the profile of the weights file its detector will load (by SHA-256, before loading
it: the profile may change how it is loaded) and writes the merged file that every node and
tool of the run then reads.
"""
from pathlib import Path

import yaml

from perception_bringup.cli import UserError
from perception_bringup.graph_spec import CONFIG_DIR
from perception_maskrcnn.backends import person_checkpoint

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


def merge(config, profile, out_path):
    """Write `config` with `profile`'s parameters laid over it (per node) to `out_path`."""
    merged = _load(config)
    for node, section in _load(profile).items():
        params = (section or {}).get('ros__parameters', {})
        target = merged.setdefault(node, {}).setdefault('ros__parameters', {})
        target.update(params)
    out_path = Path(out_path)
    out_path.write_text(f'# {config} with the profile {profile} (written by perception-demo)\n'
                        + yaml.safe_dump(merged, sort_keys=False))
    return out_path
