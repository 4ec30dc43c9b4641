"""The nodes load only what they need, and their package.xml says so.

Each node runs as a real process with ``PYTHONPROFILEIMPORTTIME`` (Python logs every module it
imports) until it is up, with settings that load its heaviest code path (a network embedder;
the detector backend that runs here). Evaluation and plotting libraries must not be among the
modules, and every third-party module our loaded modules import must be an ``exec_depend`` of
their package.xml outside the ``tool-only`` part.
"""
import ast
import os
import importlib.util
import re
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from perception_ros_glue.ros_testing import NodeProcess

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from test_package_manifests import OPTIONAL, PIP_DISTRIBUTIONS, ROSDEP_KEYS  # noqa: E402

OURS = ('perception_ros_glue', 'perception_maskrcnn', 'perception_deepsort', 'perception_bringup')
# (tqdm is not here: torch itself imports it.)
TOOL_ONLY = {'pandas', 'matplotlib', 'motmetrics', 'trackeval', 'pycocotools'}
START_S = 120.0  # torch and the embedder weights on a busy 2-core machine
_IMPORT_LINE = re.compile(r'^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)\s*$', re.M)

# executable: (module, arguments, log text once it is up, a module only its heavy path loads)
NODES = {
    'tracker_node': ('perception_deepsort.tracker_node',
                     ['-p', 'embedder:=mobilenetv2', '-p', 'device:=cpu'], 'tracker: embedder=',
                     'perception_deepsort.reid.mobilenet'),
    'detector_node': ('perception_maskrcnn.detector_node',
                      ['-p', 'backend:=hog', '-p', 'device:=cpu'], 'detector: ',
                      'perception_maskrcnn.backends.hog'),
}


def loaded_modules(executable: str, ros_args, ready: str) -> set[str]:
    """Every module the node process imported (or tried to) by the time it logged ``ready``."""
    env = dict(os.environ, PYTHONPROFILEIMPORTTIME='1')
    proc = NodeProcess(executable, ros_args, env=env)
    try:
        deadline = time.monotonic() + START_S
        while ready not in proc.output():
            assert proc.proc.poll() is None and time.monotonic() < deadline, proc.output()[-3000:]
            time.sleep(0.2)
        return set(_IMPORT_LINE.findall(proc.output()))
    finally:
        proc.close()


def manifest_sections(package: str) -> tuple[set[str], set[str]]:
    """(runtime, tool-only) dependencies of package.xml: exec_depends and pip-only modules,
    split at the ``<!-- tool-only: ... -->`` comment."""
    text = (ROOT / package / 'package.xml').read_text()
    runtime_text, _, tools_text = text.partition('<!-- tool-only:')

    def deps(part: str) -> set[str]:
        names = set(re.findall(r'<(?:exec_)?depend>\s*([\w\-]+)\s*</', part))
        for comment in re.findall(r'<!--\s*pip-only:(.*?)(?:\(|-->)', part, flags=re.S):
            names.update(n.strip() for n in comment.split(',') if n.strip())
        return names
    ET.fromstring(text)  # still a well-formed manifest
    return deps(runtime_text), deps(tools_text)


def third_party_imports(module: str) -> set[str]:
    """Top-level names of the non-stdlib, non-relative imports written in ``module``'s file."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin or not spec.origin.endswith('.py'):
        return set()
    tree = ast.parse(Path(spec.origin).read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split('.')[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split('.')[0])
    return {n for n in names if n not in sys.stdlib_module_names}


def dependency_key(module: str) -> str:
    """The package.xml name that provides top-level module ``module``."""
    if module in PIP_DISTRIBUTIONS:
        return module
    return ROSDEP_KEYS.get(module, module)


@pytest.fixture(scope='module', params=sorted(NODES))
def node_modules(request):
    module, args, ready, heavy = NODES[request.param]
    modules = loaded_modules(request.param, args, ready)
    assert heavy in modules, f'{request.param} did not take the path this test is about'
    # The entry point's own module is imported by the console script, which logs no line for it.
    return request.param, modules | {module}


def test_node_loads_no_evaluation_or_plotting_library(node_modules):
    node, modules = node_modules
    tops = {m.split('.')[0] for m in modules}
    assert not tops & TOOL_ONLY, f'{node} imports tool-only libraries {sorted(tops & TOOL_ONLY)}'


def test_what_the_node_loads_is_a_runtime_dependency(node_modules):
    node, modules = node_modules
    tops = {m.split('.')[0] for m in modules} - OPTIONAL  # failed optional imports log a line too
    missing = []
    for module in sorted(m for m in modules if m.split('.')[0] in OURS):
        package = module.split('.')[0]
        runtime, tool_only = manifest_sections(package)
        for name in sorted(third_party_imports(module) & tops):
            if name in OURS and name == package:
                continue
            if dependency_key(name) not in runtime:
                where = 'tool-only' if dependency_key(name) in tool_only else 'undeclared'
                missing.append(f'{module} imports {name} ({where} in {package}/package.xml)')
    assert not missing, f'{node}: ' + '; '.join(missing)


def test_manifest_sections_are_read_as_written():
    runtime, tool_only = manifest_sections('perception_deepsort')
    assert {'rclpy', 'perception_ros_glue', 'python3-scipy'} <= runtime
    assert {'python3-pandas', 'python3-matplotlib', 'motmetrics', 'trackeval'} <= tool_only
    assert 'perception_maskrcnn' not in runtime | tool_only
