"""OpenCV's `vtest.avi` (768x576 street scene, 795 frames at 10 fps) from Debian's opencv-doc package.

Found installed, or in the cache; otherwise `apt-get download` fetches the .deb (no root, no
install: about 96 MB) and only that one file is extracted from it.
"""
import shutil
import subprocess
import tarfile
from pathlib import Path

from perception_bringup.cli import UserError

MEMBER = './usr/share/doc/opencv-doc/examples/data/vtest.avi'
INSTALLED = Path('/') / MEMBER


def cached_path(cache_dir):
    """Where the extracted copy lives inside `cache_dir`."""
    return Path(cache_dir) / MEMBER


def find_vtest(cache_dir):
    """Path of an existing vtest.avi (installed or cached), or None."""
    for path in (INSTALLED, cached_path(cache_dir)):
        if path.is_file():
            return path
    return None


def fetch_vtest(cache_dir, log=print):
    """Download opencv-doc with apt-get into `cache_dir`, extract vtest.avi, delete the .deb."""
    if not (shutil.which('apt-get') and shutil.which('dpkg-deb')):
        raise UserError('vtest.avi is not installed and apt-get/dpkg-deb are missing to fetch it; '
                        'give a video with --video')
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    log('fetching vtest.avi: apt-get download opencv-doc (about 96 MB, once)')
    result = subprocess.run(['apt-get', 'download', 'opencv-doc'], cwd=cache_dir,
                            capture_output=True, text=True)
    debs = sorted(cache_dir.glob('opencv-doc_*.deb'))
    if result.returncode != 0 or not debs:
        raise UserError('apt-get download opencv-doc failed (no network or no apt sources?): '
                        f'{result.stderr.strip()[-300:]}; give a video with --video')
    try:
        # Stream the package's data archive and keep only the one member.
        # Reading stops at the member: dpkg-deb's complaint about the closed pipe is expected.
        dpkg = subprocess.Popen(['dpkg-deb', '--fsys-tarfile', str(debs[-1])], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
        with tarfile.open(fileobj=dpkg.stdout, mode='r|') as archive:
            for member in archive:
                if member.name == MEMBER:
                    archive.extract(member, cache_dir, filter='data')
                    break
        dpkg.stdout.close()
        dpkg.wait()
    finally:
        for deb in debs:
            deb.unlink()
    if not cached_path(cache_dir).is_file():
        raise UserError(f'{debs[-1].name} holds no {MEMBER}; give a video with --video')
    return cached_path(cache_dir)


def vtest_video(cache_dir, log=print):
    """vtest.avi, fetched when needed."""
    return find_vtest(cache_dir) or fetch_vtest(cache_dir, log)
