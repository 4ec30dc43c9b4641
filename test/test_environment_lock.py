"""The venv is exactly requirements.lock, the lock matches requirements.in, and there is one OpenCV."""
import re
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import cv2
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
OPENCV_DISTRIBUTIONS = {'opencv-python', 'opencv-python-headless', 'opencv-contrib-python',
                        'opencv-contrib-python-headless'}


def lock_pins(text=None) -> dict[str, str]:
    """{canonical name: version} of every `name==version` line of requirements.lock."""
    text = (ROOT / 'requirements.lock').read_text() if text is None else text
    return {canonicalize_name(m[1]): m[2]
            for m in re.finditer(r'^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)', text, flags=re.M)}


def venv_distributions() -> dict[str, str]:
    """{canonical name: version} of what an installer put into this interpreter's site-packages."""
    site = Path(sysconfig.get_paths()['purelib']).resolve()
    # The ROS wheels carry their Python packages' own egg-info inside them; only distributions
    # with an INSTALLER record were installed as such.
    return {canonicalize_name(dist.metadata['Name']): dist.version
            for dist in metadata.distributions(path=[str(site)]) if dist.read_text('INSTALLER')}


def test_every_lock_line_has_hashes():
    blocks = re.split(r'\n(?=[A-Za-z0-9])', (ROOT / 'requirements.lock').read_text())
    pinned = [b for b in blocks if re.match(r'[A-Za-z0-9][A-Za-z0-9._-]*==', b)]
    assert len(pinned) > 100
    unhashed = [b.split()[0] for b in pinned if '--hash=sha256:' not in b]
    assert not unhashed, f'pinned without a hash: {unhashed}'


def test_lock_satisfies_requirements_in():
    """Editing requirements.in without running scripts/lock.sh fails here."""
    pins = lock_pins()
    stale = []
    for line in (ROOT / 'requirements.in').read_text().splitlines():
        line = line.split('#')[0].strip()
        if not line:
            continue
        req = Requirement(line)
        version = pins.get(canonicalize_name(req.name))
        if version is None or not req.specifier.contains(version, prereleases=True):
            stale.append(f'{req} (lock: {version})')
    assert not stale, 'requirements.lock is stale, run scripts/lock.sh: ' + '; '.join(stale)


def test_venv_is_exactly_the_lock():
    pins, installed = lock_pins(), venv_distributions()
    wrong = {n: (v, pins.get(n)) for n, v in installed.items()
             if n not in {'pip', 'wheel'} and pins.get(n) != v}
    missing = sorted(set(pins) - set(installed))
    assert not wrong, f'installed (version, locked version) differ from the lock: {wrong}'
    assert not missing, f'locked but not installed: {missing}'


def test_exactly_one_opencv_and_it_is_the_locked_one():
    installed = set(venv_distributions()) & OPENCV_DISTRIBUTIONS
    assert installed == {'opencv-python-headless'}, f'OpenCV distributions installed: {installed}'
    locked = lock_pins()['opencv-python-headless']
    # 4.14.0.94 is OpenCV 4.14.0, build 94 of the wheel.
    assert cv2.__version__ == '.'.join(locked.split('.')[:3]), (cv2.__version__, locked)
    assert set(lock_pins()) & OPENCV_DISTRIBUTIONS == {'opencv-python-headless'}


def test_lock_parser_reads_names_versions_and_markers():
    text = ('Foo_Bar==1.2.3 \\\n    --hash=sha256:ab\nbaz==4.0 ; python_version < "3.12" \\\n'
            '    --hash=sha256:cd\n    # via foo-bar\n')
    assert lock_pins(text) == {'foo-bar': '1.2.3', 'baz': '4.0'}


def test_interpreter_is_the_locked_one():
    assert sys.version_info[:2] == (3, 11)
