"""ROS 2 managed node ``tracker_node``: camera images and detections in, tracks for every image out.

A thin adapter over ``frame_tracker.FrameTracker``, the per-frame engine the offline tools and
the benchmarks run too: messages in, engine call, messages out.

- ``tracks`` (and ``tracks/detections``, ``tracks/image``) go out for every camera image as it
  arrives, within the tracker's own processing time: tracked with its detections when they are
  already there, else with every track followed to it (Kalman prediction, camera motion, box
  flow) and marked ``predicted``. The detector never holds the tracks back.
- Detections carry their image's stamp and usually come later (the detector's latency), for
  the frames the detector took. They are fused at their own stamp (the tracks replayed from
  there), and ``tracks/fused`` carries that frame's tracks: the best estimate for the stamp.
- Masks pair with their detections by stamp (wait ``sync_timeout_s``), detections with their
  image likewise; without an image publisher every detections message is a frame (a detector-
  only graph). A repeated stamp is skipped; an image stamp going backwards (bag looped) resets
  the tracker, ids never reused. Outputs carry the input's header; tracking runs on header
  stamps, so ``use_sim_time`` and bag replay need nothing special.

Lifecycle (``ManagedNode``): configure builds the engine and its embedder and creates the
publishers; activate subscribes; deactivate unsubscribes and forgets waiting messages; cleanup
drops the tracker (its tracks and ids). ``autostart`` (default) goes to active at start-up. Its
status, with the camera and detection rates and the detections' lag, goes to ``/diagnostics``
every second. With ``--log-level tracker_node:=debug`` every image logs its stage times.
"""
from __future__ import annotations

import collections
import dataclasses
import time

from perception_msgs.msg import InstanceMaskArray, TrackedObjectArray
from rclpy.clock import Clock, ClockType
from rclpy.logging import LoggingSeverity
from sensor_msgs.msg import Image
from std_msgs.msg import Header
from vision_msgs.msg import Detection2DArray

from perception_deepsort.config import TrackerConfig
from perception_deepsort.deep_sort import build_embedder
from perception_deepsort.frame_tracker import TRACKS, FrameTracker
from perception_deepsort.track_drawing import TrackDrawer
from perception_deepsort.track_conversions import confirmed_detections, tracks_to_msg
from perception_ros_glue.diagnostics import (DIAGNOSTICS_PARAMETERS, WARN, Counters,
                                             EventRate, NodeDiagnostics)
from perception_ros_glue.frame_timing import FrameTiming
from perception_ros_glue.image_conversion import (ImageConversionError, array_to_image,
                                                  image_from_cdr, image_to_rgb)
from perception_ros_glue.managed_node import ManagedNode
from perception_ros_glue.node_main import run_node
from perception_ros_glue.node_params import OUTPUT_QOS, ParamSpec, input_qos
from perception_ros_glue.ros_conversions import detections_from_msg, masks_from_msg, stamp_to_ns

NODE_NAME = 'tracker_node'
WARN_PERIOD_S = 5.0  # rclpy throttles per call site: each kind of warning at most this often

NODE_PARAMETERS = (
    ParamSpec('sync_buffer', 10, 'Detections and masks held while waiting for the other '
              'message of the same stamp (per stream); the oldest is dropped when full.'),
    ParamSpec('sync_timeout_s', 0.2, 'Wait at most this long [s, wall time] for the masks of a '
              'detections message, and for the image of detections newer than every image; '
              'then use them without.'),
    ParamSpec('publish_annotated', True, "Publish 'tracks/image' (masks tinted by track colour, "
              "boxes, 'class #id', motion trails) for every image, while somebody subscribes."),
    ParamSpec('trail_length', 20, 'Motion trail length in frames on the annotated image '
              '(0 = none).'),
    ParamSpec('qos', 'sensor_data', "Image input QoS: 'sensor_data' (best effort) or "
              "'reliable'. Detections and masks are always taken reliably (small, and every one "
              'counts): their publisher must offer reliable, as most do by default.'),
    ParamSpec('diagnostics_period_s', 10.0, 'Period of the counters log line [s]; 0 = never.'),
) + DIAGNOSTICS_PARAMETERS


def tracker_parameters() -> tuple[ParamSpec, ...]:
    """One parameter per ``TrackerConfig`` field (its doc as description), then the node's own."""
    docs = TrackerConfig.field_docs()
    # Dynamic typing lets YAML give 1 for a float; TrackerConfig coerces and range-checks.
    config = tuple(ParamSpec(f.name, f.default, docs[f.name], dynamic_typing=True)
                   for f in dataclasses.fields(TrackerConfig))
    return config + NODE_PARAMETERS


class TrackerNode(ManagedNode):
    """DeepSORT at camera rate over ROS topics."""

    def __init__(self):
        super().__init__(NODE_NAME, tracker_parameters())
        self.engine = None
        self._subs, self._active_timers = {}, []
        self.counts = collections.Counter(images_rejected=0, masks_rejected=0, frames_failed=0)
        self.health = Counters(('duplicate_stamp', 'too_late', 'failed'))
        self._camera_rate, self._detection_rate = EventRate(), EventRate()
        self._last_detections: float | None = None  # monotonic arrival of the newest
        self.diagnostics = NodeDiagnostics(self, self.health, self._describe,
                                           lambda: self.lifecycle_state == 'active',
                                           self._problems)

    def configure(self, params: dict) -> None:
        """Build the engine (missing embedder weights fail here) and the publishers."""
        config_names = {f.name for f in dataclasses.fields(TrackerConfig)}
        self.config = TrackerConfig(**{k: v for k, v in params.items() if k in config_names})
        node_params = {k: v for k, v in params.items() if k not in config_names}
        logger = self.get_logger()
        self.engine = FrameTracker(
            self.config, build_embedder(self.config), node_params['sync_timeout_s'],
            node_params['sync_buffer'],
            warn=lambda text: logger.warning(text, throttle_duration_sec=WARN_PERIOD_S))
        logger.info(f'tracker: embedder={self.config.embedder if self.engine.tracker.embedder else "none"} '
                    f'appearance={self.config.use_appearance} camera_motion={self.config.camera_motion} '
                    f'box_flow={self.config.box_flow}')
        self._class_names: list[str] = []
        self._drawer = TrackDrawer(node_params['trail_length'])
        # Per-frame stage times are logged only at debug level (--log-level tracker_node:=debug).
        self._log_timing = logger.get_effective_level() <= LoggingSeverity.DEBUG
        self._qos = input_qos(node_params['qos'])
        self._period_s = node_params['diagnostics_period_s']
        self._pub_tracks = self.output(TrackedObjectArray, 'tracks', OUTPUT_QOS)
        self._pub_fused = self.output(TrackedObjectArray, 'tracks/fused', OUTPUT_QOS)
        self._pub_detections = self.output(Detection2DArray, 'tracks/detections', OUTPUT_QOS)
        self._pub_image = (self.output(Image, 'tracks/image', OUTPUT_QOS)
                           if node_params['publish_annotated'] else None)

    def activate(self) -> None:
        """Subscribe to images, detections and masks; start the timers."""
        self._subs = {
            'detections': self.create_subscription(Detection2DArray, 'detections',
                                                   self._on_detections, OUTPUT_QOS),
            'masks': self.create_subscription(InstanceMaskArray, 'detections/masks',
                                              self._on_masks, OUTPUT_QOS),
            # Serialised: the header is read in place and pixels only decoded when used.
            'image': self.create_subscription(Image, 'image', self._on_image, self._qos,
                                              raw=True)}
        # Steady clock: waiting and diagnostics keep working under use_sim_time without /clock.
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self._active_timers = [self.create_timer(max(self.engine.sync_timeout_s / 2, 0.01),
                                                 self._poll, clock=steady)]
        if self._period_s > 0:
            self._active_timers.append(self.create_timer(self._period_s, self._log_counts,
                                                         clock=steady))

    def deactivate(self) -> None:
        """Unsubscribe, stop the timers, forget waiting messages; tracks are kept."""
        for sub in self._subs.values():
            self.destroy_subscription(sub)
        self._subs = {}
        for timer in self._active_timers:
            self.destroy_timer(timer)
        self._active_timers = []
        if self.engine is not None:
            self.engine.forget_waiting()
            self._log_counts()

    def cleanup(self) -> None:
        """Drop the tracker (tracks, ids) and the publishers."""
        self.release_outputs()
        self.engine = None

    def _problems(self) -> list:
        """WARN while images come and detections do not: tracks are predictions only."""
        now, limit = time.monotonic(), self.diagnostics.thresholds.error_no_input_s
        since = now - (self._last_detections if self._last_detections is not None
                       else self.diagnostics.active_since)
        if self._camera_rate.rate(now) > 0 and since > limit:
            return [(WARN, f'no detections for {since:.1f} s: tracks are predictions only')]
        return []

    def _describe(self) -> dict:
        """What the node runs and how fast detections come against images, for /diagnostics."""
        info = {'lifecycle_state': self.lifecycle_state}
        if self.engine is not None:
            now = time.monotonic()
            info['embedder'] = self.config.embedder if self.engine.tracker.embedder else 'none'
            info['device'] = self.config.device
            info['camera_rate_hz'] = f'{self._camera_rate.rate(now):.2f}'
            info['detection_rate_hz'] = f'{self._detection_rate.rate(now):.2f}'
            # Fused detections: how many camera frames had gone out before they came, and the
            # time from their image's arrival to their fusion.
            info['detection_lag_frames'] = f'{self._detection_rate.mean(now, 0):.1f}'
            info['detection_latency_ms'] = f'{1000 * self._detection_rate.mean(now, 1):.1f}'
            counts = self.engine.all_counts()
            for key in ('frames', 'frames_predicted', 'frames_detected', 'fused_late',
                        'detections_too_late'):
                info[key] = counts[key]
        if 'detections' in self._subs:  # writers matched to it: 0 means no detector is connected
            info['detections_publishers'] = self._subs['detections'].get_publisher_count()
        return info

    # ---------------------------------------------------------------- callbacks: msgs -> engine

    def _inputs_known(self) -> None:
        """Tell the engine which input streams have publishers (not worth waiting for else)."""
        self.engine.expect_images = self._subs['image'].get_publisher_count() > 0
        self.engine.expect_masks = self._subs['masks'].get_publisher_count() > 0

    def _on_image(self, data: bytes, info) -> None:
        """A camera frame: its tracks go out now."""
        reception = info['received_timestamp'] * 1e-9
        self.health.input()
        try:  # serialised: fields read in place, no copy of the pixels (see image_from_cdr)
            msg = image_from_cdr(data)
        except ImageConversionError as exc:
            self._reject_image(exc)
            return
        stamp = stamp_to_ns(msg.header.stamp)
        timing = FrameTiming(stamp)
        timing.since_stamp('image_dds', reception)
        timing.since_stamp('image_in')
        timing.restart()
        image = None
        if self.engine.needs_pixels or self._annotated_wanted():
            try:
                image = image_to_rgb(msg)
            except ImageConversionError as exc:  # tracked on its stamp alone
                self._reject_image(exc)
        timing.lap('decode')
        self._camera_rate.add(time.monotonic())
        self._inputs_known()
        self._call(lambda: self.engine.image(stamp, msg.header.frame_id, image,
                                            time.monotonic()), reception, timing)

    def _on_detections(self, msg: Detection2DArray) -> None:
        """One frame's detections, usually late: fused at their stamp."""
        reception = time.time()
        self.health.input()
        self._last_detections = time.monotonic()
        dets = detections_from_msg(msg, self._class_names)
        self._class_names = dets.class_names
        self._inputs_known()
        self._call(lambda: self.engine.detections(stamp_to_ns(msg.header.stamp),
                                                 msg.header.frame_id, dets, time.monotonic()),
                  reception)

    def _on_masks(self, msg: InstanceMaskArray) -> None:
        """The masks of one frame's detections (they go with them)."""
        try:
            masks = masks_from_msg(msg)
        except ValueError as exc:
            self.counts['masks_rejected'] += 1
            self.get_logger().warning(f'ignoring malformed masks: {exc}',
                                      throttle_duration_sec=WARN_PERIOD_S)
            return
        self._call(lambda: self.engine.masks(stamp_to_ns(msg.header.stamp), masks,
                                            time.monotonic()), time.time())

    def _poll(self) -> None:
        """Detections that waited long enough for their masks or image."""
        self._inputs_known()
        self._call(lambda: self.engine.poll(time.monotonic()), time.time())

    # ---------------------------------------------------------------- engine -> msgs

    def _call(self, call, reception: float, timing: FrameTiming | None = None) -> None:
        """Run one engine call and publish what it gives; a failure costs that input only."""
        before = self.engine.all_counts()
        try:
            outputs = call()
        except Exception as exc:  # one bad frame (or embedder failure) must not stop tracking
            self.counts['frames_failed'] += 1
            self.health.drop('failed')
            self.get_logger().error(f'tracking failed: {exc}', throttle_duration_sec=WARN_PERIOD_S)
            return
        if timing is not None:
            timing.lap('track')
        for output in outputs:
            self._publish(output, reception, timing)
        self._report(before, self.engine.all_counts())

    def _publish(self, output, reception: float, timing: FrameTiming | None) -> None:
        """Messages of one engine output (tracks first; the annotated image last)."""
        header = Header(frame_id=output.frame_id)
        header.stamp.sec, header.stamp.nanosec = divmod(output.stamp, 10**9)
        tracks_msg = tracks_to_msg(output.tracks, header, self._class_names)
        if output.kind != TRACKS:
            self._pub_fused.publish(tracks_msg)
            now = time.monotonic()
            self._detection_rate.add(now, output.late_frames, now - output.arrival)
            return
        self._pub_tracks.publish(tracks_msg)
        self.health.output(time.time() - reception)
        if timing is not None:
            timing.lap('publish')
            timing.since_stamp('tracks_out')
        self._pub_detections.publish(confirmed_detections(output.tracks, header,
                                                          self._class_names))
        self._drawer.update(output.tracks)
        if output.image is not None and self._annotated_wanted():
            annotated = self._drawer.draw(output.image, output.tracks, self._class_names)
            if timing is not None:
                timing.lap('draw')
            self._pub_image.publish(array_to_image(annotated, 'rgb8', header))
            if timing is not None:
                timing.lap('image_publish')
        if self._log_timing and timing is not None:
            self.get_logger().debug(timing.line())

    def _report(self, before: dict, after: dict) -> None:
        """Health drops and log lines for what the engine counted in one call."""
        change = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
        for key, reason in (('duplicate_images', 'duplicate_stamp'),
                            ('duplicate_detections', 'duplicate_stamp'),
                            ('detections_too_late', 'too_late')):
            if change.get(key):
                self.health.drop(reason, change[key])
        if change.get('duplicate_detections') or change.get('duplicate_images'):
            self.get_logger().warning(
                'skipping a message with a repeated stamp '
                f'({after["duplicate_images"] + after["duplicate_detections"]} so far)',
                throttle_duration_sec=WARN_PERIOD_S)
        if change.get('resets'):
            self._drawer.reset()
        rejected = sum(v for k, v in change.items() if k.startswith('rejected_'))
        if rejected:
            self.get_logger().warning(
                f'skipped {rejected} detections (NaN, empty or outside the image); see the '
                'counters', throttle_duration_sec=WARN_PERIOD_S)

    def _reject_image(self, exc: Exception) -> None:
        """Count and log a malformed image."""
        self.counts['images_rejected'] += 1
        self.get_logger().warning(f'malformed image ({self.counts["images_rejected"]} so far): '
                                  f'{exc}', throttle_duration_sec=WARN_PERIOD_S)

    def _annotated_wanted(self) -> bool:
        """Whether the annotated image has a subscriber (drawing 720p costs milliseconds)."""
        return self._pub_image is not None and self._pub_image.get_subscription_count() > 0

    def _log_counts(self) -> None:
        """Periodic diagnostics line: node and engine counters."""
        counters = {**self.counts, **self.engine.all_counts()}
        self.get_logger().info(' '.join(f'{k}={v}' for k, v in counters.items()))


def main(args=None) -> int:
    """Entry point: ``tracker_node --ros-args ...``."""
    return run_node(TrackerNode, NODE_NAME, args)


if __name__ == '__main__':
    raise SystemExit(main())
