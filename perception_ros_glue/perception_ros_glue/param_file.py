"""A node's parameters from a ROS 2 parameter file, for tools that run the libraries directly.

Plain YAML, no rclpy: the tracker library reads its configuration with it too. Sections that
apply to a node without namespace are ``/**`` then ``name`` or ``/name`` (later ones override,
as for the node itself); nested mappings become dotted names, as rcl flattens them.
"""
from pathlib import Path

import yaml

WILDCARD = '/**'


def _flatten(values: dict, prefix: str = '') -> dict:
    """Nested parameter mappings as ``{'a.b': value}``."""
    flat = {}
    for key, value in values.items():
        name = f'{prefix}{key}'
        if isinstance(value, dict):
            flat.update(_flatten(value, name + '.'))
        else:
            flat[name] = value
    return flat


def node_parameters(document: dict, node_name: str, allow_flat: bool = False) -> dict:
    """``{name: value}`` the parameter file ``document`` gives ``node_name``.

    ``allow_flat``: a document without any ``ros__parameters`` section is itself the
    parameters. ValueError when no section applies to the node.
    """
    if not isinstance(document, dict):
        raise ValueError(f'expected a mapping of node sections, got {type(document).__name__}')
    sections = [k for k, v in document.items() if isinstance(v, dict) and 'ros__parameters' in v]
    if not sections and allow_flat:
        return dict(document)
    keys = [k for k in (WILDCARD, node_name, '/' + node_name) if k in sections]
    if not keys:
        raise ValueError(f'no "{node_name}: ros__parameters:" section (found sections: '
                         f'{", ".join(map(str, sections)) or "none"})')
    merged: dict = {}
    for key in keys:
        merged.update(_flatten(document[key]['ros__parameters'] or {}))
    return merged


def read_node_parameters(path, node_name: str, allow_flat: bool = False) -> dict:
    """``node_parameters`` of the YAML file ``path``; ValueError naming the file otherwise."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f'{path}: cannot read parameters: {error}') from error
    try:
        return node_parameters({} if document is None else document, node_name, allow_flat)
    except ValueError as error:
        raise ValueError(f'{path}: {error}') from None
