"""Every Python module a package imports at run time is declared in its package.xml."""
import ast
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ['perception_ros_glue', 'perception_maskrcnn', 'perception_deepsort', 'perception_bringup']

# Import name -> rosdep key (or ROS package name) that provides it.
ROSDEP_KEYS = {
    'numpy': 'python3-numpy',
    'cv2': 'python3-opencv',
    'torch': 'python3-torch',
    'torchvision': 'python3-torchvision',
    'scipy': 'python3-scipy',
    'yaml': 'python3-yaml',
    'tqdm': 'python3-tqdm',
    'matplotlib': 'python3-matplotlib',
    'pandas': 'python3-pandas',
    'PIL': 'python3-pil',
}
# Modules with no rosdep key: declared in a `<!-- pip-only: a, b -->` comment, installed on a real
# ROS install by `pip install -r requirements-ros.txt` and pinned in requirements.lock.
PIP_DISTRIBUTIONS = {
    'pycocotools': 'pycocotools',
    'ultralytics': 'ultralytics-opencv-headless',
    'lap': 'lap',
    'motmetrics': 'motmetrics',
    'trackeval': 'trackeval',
    'rosbags': 'rosbags',
    'ray': 'ray',
    'deep_sort_realtime': 'deep-sort-realtime',
}
# Imported only by benchmarks or optional code paths guarded by ImportError (openvino: only
# when the YOLO runtime 'openvino' is chosen, which checks that it is installed).
OPTIONAL = {'cv_bridge', 'launch', 'launch_ros', 'boxmot', 'openvino'}


def runtime_imports(package: str) -> dict[str, set[str]]:
    """Top-level module names imported by the package's Python files, with the files."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / package / package).rglob('*.py'):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split('.')[0], set()).add(path.name)
    return found


def declared(package: str) -> tuple[set[str], set[str]]:
    """Dependencies in package.xml, and module names listed in its pip-only comments."""
    text = (ROOT / package / 'package.xml').read_text()
    root = ET.fromstring(text)
    deps = {e.text.strip() for tag in ('depend', 'exec_depend') for e in root.iter(tag)}
    pip_only = set()
    for comment in re.findall(r'<!--\s*pip-only:(.*?)(?:\(|-->)', text, flags=re.S):
        pip_only.update(name.strip() for name in comment.split(',') if name.strip())
    return deps, pip_only


def requirement_names(name: str) -> set[str]:
    """Distribution names pinned in requirements.lock or requirements-ros.txt."""
    text = (ROOT / name).read_text()
    return {m.lower() for m in re.findall(r'^([A-Za-z0-9][A-Za-z0-9._-]*)==', text, flags=re.M)}


@pytest.mark.parametrize('package', PACKAGES)
def test_every_runtime_import_is_declared(package):
    deps, pip_only = declared(package)
    missing = []
    for module, files in sorted(runtime_imports(package).items()):
        if module in sys.stdlib_module_names or module in OPTIONAL or module == package:
            continue
        if module in PIP_DISTRIBUTIONS:
            dist = PIP_DISTRIBUTIONS[module]
            ok = (module in pip_only and dist in requirement_names('requirements.lock')
                  and dist in requirement_names('requirements-ros.txt'))
        else:
            ok = ROSDEP_KEYS.get(module, module) in deps
        if not ok:
            missing.append(f'{module} (imported by {", ".join(sorted(files))})')
    assert not missing, f'{package}/package.xml does not declare: ' + '; '.join(missing)


def test_checker_catches_an_undeclared_import(tmp_path, monkeypatch):
    """The check above fails for a package that imports something it does not declare."""
    pkg = tmp_path / 'demo_pkg'
    (pkg / 'demo_pkg').mkdir(parents=True)
    (pkg / 'demo_pkg' / 'mod.py').write_text('import scipy\nfrom rclpy.node import Node\n')
    (pkg / 'package.xml').write_text(
        '<package format="3"><name>demo_pkg</name><exec_depend>rclpy</exec_depend></package>')
    monkeypatch.setattr(sys.modules[__name__], 'ROOT', tmp_path)
    with pytest.raises(AssertionError, match='scipy'):
        test_every_runtime_import_is_declared('demo_pkg')


def test_no_package_xml_at_repository_root():
    # colcon stops descending at a package: one at the root would hide the real packages.
    assert not (ROOT / 'package.xml').exists()
