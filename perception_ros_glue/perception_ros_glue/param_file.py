"""A node's parameters from a ROS 2 parameter file, for tools that run the libraries directly.

Plain YAML, no rclpy: the tracker library reads its configuration with it too. A section applies
to a node as in rcl/rclcpp: its key is the node's full name (``/front/detector_node``; a leading
``/`` may be left out; keys may also be nested under namespace keys, ``front: detector_node:``),
or a pattern with ``*`` (one name token) and ``/**`` (any namespaces): ``/**`` applies to every
node, ``/**/detector_node`` to every ``detector_node``. A plain ``detector_node`` key applies to
the node of that name in any namespace here: rclpy itself (unlike rclcpp) matches only ``/**``
and the exact full name, which is why the node graph resolves namespaced nodes' parameters
with this module (``graph_spec.node_params_file``). Patterns apply first, then bare node names,
then full names, each in file order (later ones override); nested mappings become dotted names, as rcl flattens them.
"""
import re
from pathlib import Path

import yaml

WILDCARD = '/**'
_PARAMS = 'ros__parameters'


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


def sections(document: dict, prefix: str = '') -> list:
    """``[(key, parameters)]`` of every node section, nested namespace keys joined with '/'."""
    found = []
    for key, value in document.items():
        if not isinstance(value, dict):
            continue
        name = f'{prefix}/{str(key).strip("/")}' if prefix else str(key)
        if _PARAMS in value:
            found.append((name, value[_PARAMS] or {}))
        else:
            found += sections(value, name)
    return found


def _pattern(key: str) -> re.Pattern:
    """The full node names a section key matches (rcl's ``*`` and ``/**``)."""
    key = key if key.startswith('/') else '/' + key
    text = re.escape(key).replace(re.escape('/**'), '(/[^/]+)*').replace(re.escape('*'), '[^/]+')
    return re.compile(text)


def section_applies(key: str, node_name: str, namespace: str = '') -> bool:
    """Whether the section ``key`` sets parameters of ``node_name`` in ``namespace``."""
    full = f'{namespace.rstrip("/")}/{node_name}'
    if '/' not in key.strip('/') and '*' not in key:
        return key.strip('/') == node_name  # a bare node name: that node in any namespace
    return bool(_pattern(key).fullmatch(full))


def _specificity(key: str) -> int:
    """Precedence of a section: patterns, then bare node names, then full names."""
    if '*' in key:
        return 0
    return 1 if '/' not in key.strip('/') else 2


def node_parameters(document: dict, node_name: str, allow_flat: bool = False,
                    namespace: str = '') -> dict:
    """``{name: value}`` the parameter file ``document`` gives ``node_name`` in ``namespace``.

    ``allow_flat``: a document without any ``ros__parameters`` section is itself the
    parameters. ValueError when no section applies to the node.
    """
    if not isinstance(document, dict):
        raise ValueError(f'expected a mapping of node sections, got {type(document).__name__}')
    found = sections(document)
    if not found and allow_flat:
        return dict(document)
    applying = [(k, v) for k, v in found if section_applies(k, node_name, namespace)]
    if not applying:
        raise ValueError(f'no "{node_name}: ros__parameters:" section (found sections: '
                         f'{", ".join(str(k) for k, _ in found) or "none"})')
    merged: dict = {}
    for _, values in sorted(applying, key=lambda item: _specificity(item[0])):  # stable sort
        merged.update(_flatten(values))
    return merged


def read_node_parameters(path, node_name: str, allow_flat: bool = False,
                         namespace: str = '') -> dict:
    """``node_parameters`` of the YAML file ``path``; ValueError naming the file otherwise."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f'{path}: cannot read parameters: {error}') from error
    try:
        return node_parameters({} if document is None else document, node_name, allow_flat,
                               namespace)
    except ValueError as error:
        raise ValueError(f'{path}: {error}') from None
