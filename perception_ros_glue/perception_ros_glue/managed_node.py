"""Managed (lifecycle) node base shared by ``detector_node`` and ``tracker_node``.

A subclass implements four hooks and never touches the state machine itself:

- ``configure(params)``: load models, warm up, create publishers (``output``: lifecycle
  publishers, they send only while active; ``release_outputs`` in ``cleanup`` destroys them);
- ``activate()``: create subscriptions, timers and worker threads;
- ``deactivate()``: undo ``activate`` (no input is taken while inactive);
- ``cleanup()``: undo ``configure`` (called after a failed configure too: it must cope with a
  half-configured node).

An exception in a hook is logged and returned as a failed transition (the node stays in the
state it came from; rclpy's lifecycle services report ``success: false``), never a crash.
Parameters are declared at construction (visible and settable while unconfigured) and read
again at each configure. With ``autostart`` (default true) ``start()`` configures and activates
right away; a configure that fails then is a configuration error (``run_node`` exits with code 1,
one line). With ``autostart:=false`` the node waits unconfigured for a lifecycle manager.
"""
from __future__ import annotations

import time

from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn

from perception_ros_glue.node_params import ParamSpec, declare_parameters, parameter_values

AUTOSTART = ParamSpec('autostart', True, 'Configure and activate at start-up; false = stay '
                      'unconfigured until a lifecycle manager (or `ros2 lifecycle set`) drives '
                      'the transitions.')

SUCCESS = TransitionCallbackReturn.SUCCESS
FAILURE = TransitionCallbackReturn.FAILURE


class ManagedNode(LifecycleNode):
    """LifecycleNode with parameter specs, hook methods, timed transitions and ``autostart``."""

    def __init__(self, node_name: str, specs):
        super().__init__(node_name)
        self.parameter_specs = tuple(specs)
        self.autostart = declare_parameters(self, (*self.parameter_specs, AUTOSTART))['autostart']
        self.params: dict = {}
        # 'unconfigured' | 'inactive' | 'active' | 'finalized'
        self.lifecycle_state = 'unconfigured'
        self.failure: Exception | None = None  # what made the last transition fail
        self.transition_s: dict[str, float] = {}  # duration of the last transition of each kind
        self._quiet_failures = False
        self._lifecycle_outputs: list = []

    def output(self, msg_type, topic: str, qos):
        """A lifecycle publisher (sends only while active), destroyed by ``release_outputs``."""
        publisher = self.create_lifecycle_publisher(msg_type, topic, qos)
        self._lifecycle_outputs.append(publisher)
        return publisher

    def release_outputs(self) -> None:
        """Destroy the publishers ``output`` made (for ``cleanup``)."""
        for publisher in self._lifecycle_outputs:
            self.destroy_lifecycle_publisher(publisher)
        self._lifecycle_outputs = []

    # Hooks for subclasses.
    def configure(self, params: dict) -> None:
        """Load models and create publishers (raise to fail the transition)."""

    def activate(self) -> None:
        """Start taking input (subscriptions, timers, threads)."""

    def deactivate(self) -> None:
        """Stop taking input; undo ``activate``."""

    def cleanup(self) -> None:
        """Release what ``configure`` made (also after a failed, partial configure)."""

    # rclpy lifecycle callbacks.
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        def configure():
            self.params = parameter_values(self, self.parameter_specs)
            self.configure(self.params)
        return self._run('configure', configure, 'inactive', undo=self.cleanup)

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        result = self._run('activate', self.activate, 'active', undo=self.deactivate)
        return super().on_activate(state) if result == SUCCESS else result  # publishers on

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        super().on_deactivate(state)  # publishers off first: nothing half-done goes out
        return self._run('deactivate', self.deactivate, 'inactive')

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        return self._run('cleanup', self.cleanup, 'unconfigured')

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        return self._run('shutdown', self._release_all, 'finalized')

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        """After an ERROR return: release everything and go back to unconfigured."""
        self._release_all()
        self.lifecycle_state = 'unconfigured'
        return SUCCESS

    def _run(self, name: str, action, new_state: str, undo=None) -> TransitionCallbackReturn:
        """Run one transition's hook; an exception is logged and becomes FAILURE."""
        start = time.perf_counter()
        try:
            action()
        except Exception as exc:  # a failed transition is reported, the node keeps running
            self.failure = exc
            if not self._quiet_failures:
                self.get_logger().error(f'{name} failed: {exc}')
            if undo is not None:
                try:
                    undo()
                except Exception as undo_exc:  # report the first error, not the clean-up's
                    self.get_logger().warning(f'undoing the failed {name}: {undo_exc}')
            return FAILURE
        self.transition_s[name] = time.perf_counter() - start
        self.lifecycle_state = new_state
        self.get_logger().info(f'{name}: {1000 * self.transition_s[name]:.0f} ms, now {new_state}')
        return SUCCESS

    def _release_all(self) -> None:
        """Deactivate and clean up from whatever state the node is in."""
        if getattr(self, 'lifecycle_state', None) == 'active':  # None: constructor failed
            super().on_deactivate(None)
            self.deactivate()
            self.lifecycle_state = 'inactive'
        if getattr(self, 'lifecycle_state', None) == 'inactive':
            self.cleanup()
            self.lifecycle_state = 'unconfigured'

    def start(self) -> None:
        """With ``autostart``: configure and activate now; raises what made either fail."""
        if not self.autostart:
            self.get_logger().info('unconfigured: waiting for a lifecycle manager (autostart '
                                   'is false)')
            return
        self._quiet_failures = True  # run_node prints the one line of a configuration error
        try:
            for trigger in (self.trigger_configure, self.trigger_activate):
                if trigger() != SUCCESS:
                    raise self.failure or RuntimeError('lifecycle transition failed')
        finally:
            self._quiet_failures = False

    def destroy_node(self):
        """Deactivate and clean up (worker threads stop) before the node goes away."""
        try:
            self._release_all()
        finally:
            self.lifecycle_state = 'finalized'
        return super().destroy_node()
