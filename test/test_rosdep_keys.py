"""Every dependency in a package.xml resolves with `rosdep install` on Humble and Jazzy; the pip
step for what has no key (requirements-ros.txt) pins the locked versions."""
import re
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROSDEP = Path(__file__).parent / 'data' / 'rosdep'  # snapshot of the public rosdistro index
DEPEND_TAGS = ('depend', 'build_depend', 'build_export_depend', 'buildtool_depend',
               'buildtool_export_depend', 'exec_depend', 'test_depend', 'doc_depend')


def key_list(name: str) -> set[str]:
    """One rosdep list of test/data/rosdep as a set of names."""
    return {ln.strip() for ln in (ROSDEP / name).read_text().splitlines() if ln.strip()}


def manifests(root: Path) -> list[Path]:
    """Every package.xml below `root` outside build products and the venv."""
    skip = {'.venv', 'build', 'install', 'log', '.git', '.cache', 'out', 'data'}
    return sorted(p for p in root.rglob('package.xml') if not skip & set(p.relative_to(root).parts))


def unresolvable(root: Path) -> list[str]:
    """`file: key` for each dependency that is neither a workspace package, nor a package of both
    Humble and Jazzy, nor a rosdep system key."""
    files = manifests(root)
    workspace = {ET.parse(p).getroot().findtext('name') for p in files}
    known = workspace | (key_list('humble-packages.txt') & key_list('jazzy-packages.txt')) \
        | key_list('system-keys.txt')
    bad = []
    for path in files:
        for tag in DEPEND_TAGS:
            for element in ET.parse(path).getroot().iter(tag):
                if element.text.strip() not in known:
                    bad.append(f'{path.relative_to(root)}: <{tag}>{element.text.strip()}')
    return bad


def test_workspace_has_the_packages():
    names = {p.parent.name for p in manifests(ROOT)}
    assert {'perception_msgs', 'perception_maskrcnn', 'perception_deepsort', 'perception_bringup'} <= names


def test_every_dependency_resolves_on_humble_and_jazzy():
    bad = unresolvable(ROOT)
    assert not bad, 'rosdep cannot resolve (make it a pip-only dependency, see README): ' + '; '.join(bad)


def test_the_check_catches_a_key_without_a_definition(tmp_path):
    """python3-pycocotools has no rosdep key: the check names it; a real key passes."""
    (tmp_path / 'pkg').mkdir()
    (tmp_path / 'pkg' / 'package.xml').write_text(
        '<package format="3"><name>pkg</name><exec_depend>python3-numpy</exec_depend>'
        '<exec_depend>rclpy</exec_depend><exec_depend>python3-pycocotools</exec_depend>'
        '<test_depend>pkg</test_depend></package>')
    assert unresolvable(tmp_path) == ['pkg/package.xml: <exec_depend>python3-pycocotools']


def test_pip_step_is_pinned_like_the_lock():
    lock = (ROOT / 'requirements.lock').read_text()
    for line in (ROOT / 'requirements-ros.txt').read_text().splitlines():
        pin = line.split('#')[0].strip()
        if pin:
            assert re.search(rf'^{re.escape(pin)} ', lock, flags=re.M | re.I), f'{pin} is not the locked version'

