"""Shared command-line plumbing: user errors end with one clear line, never a traceback."""
import contextlib
import sys


class UserError(Exception):
    """A problem with what the user gave (file, option, environment), reported without traceback."""


@contextlib.contextmanager
def user_errors(prog):
    """Turn a UserError raised inside the block into `prog: error: ...` and exit status 2."""
    try:
        yield
    except UserError as exc:
        print(f'{prog}: error: {exc}', file=sys.stderr)
        sys.exit(2)
