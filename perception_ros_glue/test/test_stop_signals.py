"""StopSignals: a signal is a flag once running, an interrupt only while starting up.

Each case runs in a process of its own, as a node does. Raised inside the test runner, a signal
met what earlier tests left there: OpenVINO's CPU plugin installs an alternate signal stack on
the thread that compiles a model and puts the previous one back when the model is freed; the
runtime tests free theirs out of order, a freed stack stays installed, and Python's handlers
run on it (a --reverse run died with SIGSEGV; reproduced after test_det_yolo_runtime alone).
"""
import signal
import subprocess
import sys

import pytest

CASE = '''
import signal, sys
from perception_ros_glue.stop_signals import StopSignals
sig = signal.Signals[sys.argv[1]]
before = signal.getsignal(sig)
with StopSignals(interruptible=sys.argv[2] == 'interruptible') as signals:
    assert not signals.requested.is_set()
    try:
        signal.raise_signal(sig)  # the handler runs before raise_signal returns
        print('flag' if signals.requested.is_set() else 'nothing')
    except KeyboardInterrupt:
        print('interrupted')
    signals.interruptible = False
    signal.raise_signal(sig)  # once running: a flag, whatever came before
    print('flag' if signals.requested.is_set() else 'nothing')
print('restored' if signal.getsignal(sig) is before else 'not restored')
'''


def _run(sig, mode):
    done = subprocess.run([sys.executable, '-c', CASE, sig.name, mode], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM], ids=['SIGINT', 'SIGTERM'])
def test_a_signal_sets_the_flag_and_raises_nothing(sig):
    assert _run(sig, 'running') == ['flag', 'flag', 'restored']


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM], ids=['SIGINT', 'SIGTERM'])
def test_while_interruptible_a_signal_interrupts(sig):
    assert _run(sig, 'interruptible') == ['interrupted', 'flag', 'restored']
