"""StopSignals: a signal is a flag once running, an interrupt only while starting up."""
import signal

import pytest

from perception_ros_glue.stop_signals import StopSignals


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM], ids=['SIGINT', 'SIGTERM'])
def test_a_signal_sets_the_flag_and_raises_nothing(sig):
    before = signal.getsignal(sig)
    with StopSignals() as signals:
        assert not signals.requested.is_set()
        signal.raise_signal(sig)  # the handler runs before raise_signal returns
        assert signals.requested.is_set()
    assert signal.getsignal(sig) is before  # the previous handler is back


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM], ids=['SIGINT', 'SIGTERM'])
def test_while_interruptible_a_signal_interrupts(sig):
    with StopSignals(interruptible=True) as signals:
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(sig)
        assert signals.requested.is_set()
        signals.interruptible = False
        signal.raise_signal(sig)  # the second, once running: a flag again
