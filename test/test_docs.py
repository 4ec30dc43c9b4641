"""What the docs name exists: files and folders, console scripts, modules; the README stays short."""
import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md'))]
PACKAGES = ['perception_ros_glue', 'perception_maskrcnn', 'perception_deepsort',
            'perception_bringup']
# Names of things the tools write or the user provides, not files of this repository.
NOT_IN_REPO = {'out/', 'output_bag/', 'tracks.mp4', 'tracks.txt', 'summary.json', 'vtest.avi',
               'install/setup.bash', '.venv/', './weights/'}
# Topics of the node graph (relative names, as the nodes declare them).
TOPICS = {'image', 'detections', 'detections/masks', 'detections/image', 'tracks',
          'tracks/fused', 'tracks/detections', 'tracks/image'}
_CODE = re.compile(r'`([^`\n]+)`|\]\(([^)\s]+)\)')
_EXTENSIONS = ('.py', '.yaml', '.sh', '.md', '.xml', '.rviz', '.json', '.png')


def console_scripts() -> set[str]:
    """Every console script our setup.py files declare."""
    names = set()
    for package in PACKAGES:
        tree = ast.parse((ROOT / package / 'setup.py').read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ' = ' in node.value:
                names.add(node.value.split(' = ')[0].strip())
    return names


def path_exists(token: str) -> bool:
    """Whether ``token`` names something in the repository or inside one of our packages."""
    bases = [ROOT] + [ROOT / p for p in PACKAGES] + [ROOT / p / p for p in PACKAGES]
    if '*' in token:
        return any(any(base.glob(token)) for base in bases)
    if any((base / token).exists() for base in bases):
        return True
    # A bare file name (the docs' module maps): somewhere in our sources.
    return '/' not in token and any(
        any(base.rglob(token)) for base in [ROOT / p for p in PACKAGES]
        + [ROOT / d for d in ('test', 'benchmarks', 'scripts', 'config', 'launch')])


def message_exists(token: str) -> bool:
    """Whether ``package/Type`` is an importable message type."""
    package, name = token.split('/')
    try:
        return hasattr(importlib.import_module(f'{package}.msg'), name)
    except ImportError:
        return False


def module_exists(token: str) -> bool:
    """Whether a dotted ``perception_*`` name is a module, or an attribute of one."""
    parts = token.split('.')
    for cut in range(len(parts), 0, -1):
        try:
            module = importlib.import_module('.'.join(parts[:cut]))
        except ImportError:
            continue
        target = module
        for name in parts[cut:]:
            if not hasattr(target, name):
                return False
            target = getattr(target, name)
        return True
    return False


def problems(text: str, scripts: set[str]) -> list[str]:
    """Names in ``text`` (inline code and link targets) that do not exist."""
    found = []
    for code, link in _CODE.findall(text):
        for token in (code or link).split(', '):
            token = token.strip()
            if (not token or ' ' in token or token.startswith(('/', '$', '~', 'http'))
                    or token in NOT_IN_REPO or token in TOPICS):
                continue
            if re.fullmatch(r'perception-[a-z-]+|\w+_node', token):
                ok = token in scripts
            elif re.fullmatch(r'\w+_msgs/[A-Z]\w*', token):
                ok = message_exists(token)
            elif re.fullmatch(r'perception_\w+(\.\w+)+', token):
                ok = module_exists(token)
            elif '/' in token or token.endswith(_EXTENSIONS):
                ok = path_exists(token.rstrip('/'))
            else:
                continue
            if not ok:
                found.append(token)
    return found


@pytest.mark.parametrize('doc', DOCS, ids=lambda p: p.name)
def test_every_named_path_script_and_module_exists(doc):
    assert not problems(doc.read_text(), console_scripts()), doc.name


def test_the_check_catches_names_that_do_not_exist():
    text = ('`scripts/nope.sh`, `perception-nope`, `nope_node`, `perception_deepsort.nope`, '
            '`vision_msgs/Nope`, [x](docs/NOPE.md), `kalman_filter.py`, `perception-demo`, '
            '`fallback/`, `perception_msgs/TrackedObject`, `tracks/image`')
    assert problems(text, console_scripts()) == [
        'scripts/nope.sh', 'perception-nope', 'nope_node', 'perception_deepsort.nope',
        'vision_msgs/Nope', 'docs/NOPE.md']


def test_architecture_names_every_module():
    # The other direction of the check above: no module of ours is left out of the map.
    text = (ROOT / 'docs' / 'ARCHITECTURE.md').read_text()
    modules = {path.name for package in PACKAGES for path in (ROOT / package / package).rglob('*.py')
               if path.name != '__init__.py'}
    named = {name for name in modules if re.search(rf'`(?:[\w./]*/)?{re.escape(name)}`', text)}
    assert sorted(modules - named) == []


def test_readme_is_short():
    assert len((ROOT / 'README.md').read_bytes()) <= 10_000
