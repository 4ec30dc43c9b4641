"""ROS 2 managed node ``tracker_node``: detections (+ masks, + image) in, DeepSORT tracks out.

Lifecycle (``ManagedNode``): configure builds the tracker and its embedder and creates the
publishers; activate subscribes; deactivate unsubscribes and forgets half-paired messages;
cleanup drops the tracker (its tracks and ids). ``autostart`` (default) goes to active at
start-up. Its status goes to ``/diagnostics`` every second.

Detections, masks and images are paired by header stamp (``stamp_sync``); a frame whose image
does not arrive within ``sync_timeout_s`` is tracked on motion alone. Outputs carry the header of
the input detections. Tracking runs on header stamps, so ``use_sim_time`` and bag replay need
nothing special; a stamp that goes backwards (bag looped) resets the tracker. Tracks go out
before the annotated image is drawn, and the image is drawn only while somebody subscribes.
While the detector gives nothing (down, restarting after a crash, stalled) and images keep
coming, every image is tracked on motion alone (``coast_without_detections``, ``coasting``):
its ``tracks`` carry the confirmed tracks' predictions marked ``predicted``; matching resumes
with the same tracks and ids when detections return.
With ``--log-level tracker_node:=debug`` every frame logs its stage times (``frame_timing``).
Images are taken serialised and decoded in place when they arrive (usually long before their
detections, which wait for inference); their camera-motion work is done then and between
frames, off the path from detections to tracks.
"""
from __future__ import annotations

import collections
import dataclasses
import time
import typing

from perception_msgs.msg import InstanceMaskArray, TrackedObjectArray
from rclpy.clock import Clock, ClockType
from rclpy.logging import LoggingSeverity
from sensor_msgs.msg import Image
from std_msgs.msg import Header
from vision_msgs.msg import Detection2DArray

from perception_deepsort.coasting import CoastGate
from perception_deepsort.config import TrackerConfig
from perception_deepsort.deep_sort import DeepSort, build_embedder
from perception_deepsort.stamp_sync import StampSync
from perception_deepsort.track_drawing import TrackDrawer
from perception_deepsort.track_conversions import confirmed_detections, tracks_to_msg
from perception_ros_glue.diagnostics import DIAGNOSTICS_PARAMETERS, Counters, NodeDiagnostics
from perception_ros_glue.frame_timing import FrameTiming
from perception_ros_glue.image_conversion import (ImageConversionError, array_to_image,
                                                  image_from_cdr, image_to_rgb)
from perception_ros_glue.managed_node import ManagedNode
from perception_ros_glue.node_main import run_node
from perception_ros_glue.node_params import OUTPUT_QOS, ParamSpec, input_qos
from perception_ros_glue.ros_conversions import msgs_to_detections, stamp_to_ns

NODE_NAME = 'tracker_node'
WARN_PERIOD_S = 5.0  # rclpy throttles per call site: each kind of warning at most this often

NODE_PARAMETERS = (
    ParamSpec('sync_buffer', 10, 'Detections, masks and images held while waiting for the other '
              'messages of the same stamp (per stream); the oldest is dropped when full.'),
    ParamSpec('sync_timeout_s', 0.2, 'Wait at most this long [s, wall time] for the image and '
              'masks of a detection message; then track it without them (motion only).'),
    ParamSpec('publish_annotated', True, "Publish 'tracks/image' (masks tinted by track colour, "
              "boxes, 'class #id', motion trails); needs the 'image' topic."),
    ParamSpec('trail_length', 20, 'Motion trail length in frames on the annotated image '
              '(0 = none).'),
    ParamSpec('qos', 'sensor_data', "Input QoS: 'sensor_data' (best effort) or 'reliable'."),
    ParamSpec('coast_without_detections', True, "While the detector gives nothing (crashed, "
              "restarting, stalled) and images keep coming, publish 'tracks' for each image with "
              "the confirmed tracks' motion predictions (predicted: true, state LOST), up to "
              "max_age frames without a match; needs the 'image' topic."),
    ParamSpec('coast_after_s', 1.0, 'Coast an image once no detections came for this long [s, '
              'wall time] (at least 3 detector message intervals, so a slow detector is waited '
              'for); at once when the detections topic has no publisher.'),
    ParamSpec('diagnostics_period_s', 10.0, 'Period of the counters log line [s]; 0 = never.'),
) + DIAGNOSTICS_PARAMETERS


def tracker_parameters() -> tuple[ParamSpec, ...]:
    """One parameter per ``TrackerConfig`` field (its doc as description), then the node's own."""
    docs = TrackerConfig.field_docs()
    # Dynamic typing lets YAML give 1 for a float; TrackerConfig coerces and range-checks.
    config = tuple(ParamSpec(f.name, f.default, docs[f.name], dynamic_typing=True)
                   for f in dataclasses.fields(TrackerConfig))
    return config + NODE_PARAMETERS


class DecodedImage(typing.NamedTuple):
    """An image as its callback left it: pixels, or why not; its camera-motion frame."""

    rgb: object  # HxWx3 uint8 view, None when malformed
    error: Exception | None
    motion: object  # MotionFrame, None when camera motion is off


class TrackerNode(ManagedNode):
    """DeepSORT over ROS topics."""

    def __init__(self):
        super().__init__(NODE_NAME, tracker_parameters())
        self.tracker = None
        self._subs, self._active_timers = {}, []
        self.counts = collections.Counter(frames=0, frames_coasted=0, frames_without_image=0,
                                          images_rejected=0,
                                          masks_mismatched=0, frames_rejected=0, frames_failed=0,
                                          duplicate_stamps=0, resets=0)
        self.health = Counters(('rejected', 'failed', 'duplicate_stamp'))
        self.diagnostics = NodeDiagnostics(self, self.health, self._describe,
                                           lambda: self.lifecycle_state == 'active')

    def configure(self, params: dict) -> None:
        """Build the tracker (missing embedder weights fail here) and the publishers."""
        config_names = {f.name for f in dataclasses.fields(TrackerConfig)}
        self.config = TrackerConfig(**{k: v for k, v in params.items() if k in config_names})
        self.node_params = {k: v for k, v in params.items() if k not in config_names}
        self.tracker = DeepSort(self.config, build_embedder(self.config))
        self.get_logger().info(
            f'tracker: embedder={self.config.embedder if self.tracker.embedder else "none"} '
            f'appearance={self.config.use_appearance} camera_motion={self.config.camera_motion}')
        self._class_names: list[str] = []
        self._coasting = False  # the last frame published was a coasted one
        self._last_stamp: int | None = None
        self._drawer = TrackDrawer(self.node_params['trail_length'])
        # Per-frame stage times are logged only at debug level (--log-level tracker_node:=debug).
        self._log_timing = self.get_logger().get_effective_level() <= LoggingSeverity.DEBUG
        self._coast = (CoastGate(self.node_params['coast_after_s'])
                       if self.node_params['coast_without_detections'] else None)
        self._want_image = (self.tracker.needs_image or self.node_params['publish_annotated']
                            or self._coast is not None)
        self._sync = StampSync(('image', 'masks') if self._want_image else ('masks',),
                               self.node_params['sync_buffer'], self.node_params['sync_timeout_s'])
        self._qos = input_qos(self.node_params['qos'])
        self._pub_tracks = self.output(TrackedObjectArray, 'tracks', OUTPUT_QOS)
        self._pub_detections = self.output(Detection2DArray, 'tracks/detections', OUTPUT_QOS)
        self._pub_image = (self.output(Image, 'tracks/image', OUTPUT_QOS)
                           if self.node_params['publish_annotated'] else None)

    def activate(self) -> None:
        """Subscribe to detections, masks and (when needed) images; start the timers."""
        qos = self._qos
        # Callbacks take the message info too: its DDS reception time goes to the timing log.
        self._subs = {'detections': self.create_subscription(
            Detection2DArray, 'detections', self._on_detections, qos)}
        # Camera motion to the newest image is worked out ahead, between frames (see _prepare_next).
        self._newest_image: tuple | None = None  # (stamp, MotionFrame)
        self._motion_wanted = True  # the first image after a tracked frame gets its motion ahead
        self._subs['masks'] = self.create_subscription(
            InstanceMaskArray, 'detections/masks', lambda m, i: self._on_part('masks', m, i), qos)
        if self._want_image:
            self._subs['image'] = self.create_subscription(
                Image, 'image', self._on_image, qos, raw=True)
        # Steady clock: waiting and diagnostics keep working under use_sim_time without /clock.
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self._active_timers = [self.create_timer(max(self.node_params['sync_timeout_s'] / 2, 0.01),
                                          self._drain, clock=steady)]
        if self.node_params['diagnostics_period_s'] > 0:
            self._active_timers.append(self.create_timer(self.node_params['diagnostics_period_s'],
                                                  self._log_counts, clock=steady))

    def deactivate(self) -> None:
        """Unsubscribe, stop the timers, forget half-paired messages; tracks are kept."""
        for sub in self._subs.values():
            self.destroy_subscription(sub)
        self._subs = {}
        for timer in self._active_timers:
            self.destroy_timer(timer)
        self._active_timers = []
        if self.tracker is not None:
            self._sync.clear()
            if self._coast is not None:
                self._coast.clear()
            self._log_counts()

    def cleanup(self) -> None:
        """Drop the tracker (tracks, ids) and the publishers."""
        self.release_outputs()
        self.tracker = None

    def _describe(self) -> dict:
        """What the node runs, for /diagnostics."""
        info = {'lifecycle_state': self.lifecycle_state}
        if self.tracker is not None:
            info['embedder'] = self.config.embedder if self.tracker.embedder else 'none'
            info['device'] = self.config.device
            info['frames_without_image'] = self.counts['frames_without_image']
            info['frames_coasted'] = self.counts['frames_coasted']
        if 'detections' in self._subs:  # writers matched to it: 0 means no detector is connected
            info['detections_publishers'] = self._subs['detections'].get_publisher_count()
        return info

    def _on_detections(self, msg: Detection2DArray, info) -> None:
        """Queue the detections of one image until its image and masks are there."""
        self.health.input()
        stamp = stamp_to_ns(msg.header.stamp)
        if self._coast is not None:  # frames of an outage the restarted detector skipped
            for image in self._coast.detections(stamp, time.monotonic()):
                self._publish_coasted(image)
        self._sync.add_primary(stamp, self._received(msg, info), time.monotonic())
        self._drain()

    def _on_part(self, key: str, msg, info) -> None:
        """Hand an image or masks message to the stamp matcher."""
        self._sync.add(key, stamp_to_ns(msg.header.stamp), self._received(msg, info),
                       time.monotonic())
        self._drain()

    def _on_image(self, data: bytes, info) -> None:
        """Decode the image and do its image-only tracking work now, long before its detections."""
        received = self._received(data, info)
        try:  # serialised: fields read in place, no copy of the pixels (see image_from_cdr)
            msg = image_from_cdr(data)
        except ImageConversionError as exc:
            self.counts['images_rejected'] += 1
            self.get_logger().warning(f'ignoring a malformed image message: {exc}',
                                      throttle_duration_sec=WARN_PERIOD_S)
            return
        stamp = stamp_to_ns(msg.header.stamp)
        if self._coast is not None:
            self._coast.image(stamp, msg.header.frame_id, time.monotonic())
        try:
            image, error = image_to_rgb(msg), None
        except ImageConversionError as exc:
            image, error = None, exc
        motion = self.tracker.prepare_motion(image) if image is not None else None
        if motion is not None:
            self._newest_image = (stamp, motion)
            if self._motion_wanted:  # the previous frame is tracked: this image is likely next
                self._motion_wanted = False
                self.tracker.precompute_motion(motion)
        self._sync.add('image', stamp, (DecodedImage(image, error, motion), *received[1:]),
                       time.monotonic())
        self._drain()

    def _prepare_next(self, stamp: int) -> None:
        """After a frame: camera motion from it to the newest later image (the detector's likely
        next frame), or to the first image arriving from now on."""
        newest = self._newest_image
        if newest is not None and newest[0] > stamp:
            self.tracker.precompute_motion(newest[1])
        else:
            self.tracker.precompute_motion()
            self._motion_wanted = True

    @staticmethod
    def _received(msg, info) -> tuple:
        """``(msg, DDS reception [s], callback start [s])``: wall times for the timing log."""
        return msg, info['received_timestamp'] * 1e-9, time.time()

    def _expected_parts(self) -> list[str]:
        """Streams worth waiting for: published, and (the image) used by someone."""
        # Only wait for streams somebody publishes (e.g. a detector without masks).
        expected = [k for k, sub in self._subs.items()
                    if k != 'detections' and sub.get_publisher_count() > 0]
        if 'image' in expected and not (self.tracker.needs_image or self._annotated_wanted()):
            expected.remove('image')  # nobody needs it now: do not hold the tracks back for it
        return expected

    def _annotated_wanted(self) -> bool:
        """Whether the annotated image has a subscriber (drawing 720p costs milliseconds)."""
        return self._pub_image is not None and self._pub_image.get_subscription_count() > 0

    def _drain(self) -> None:
        """Track every frame that is complete or has waited long enough; coast the images the
        detector gives nothing for."""
        self._track_ready()
        if self._coast is not None:
            present = self._subs['detections'].get_publisher_count() > 0
            for image in self._coast.due(time.monotonic(), present):
                self._publish_coasted(image)

    def _publish_coasted(self, image) -> None:
        """Publish the motion predictions for an image without detections (``CoastGate``)."""
        if self._last_stamp is not None and image.stamp <= self._last_stamp:
            return  # tracked already (or older than the tracker's state)
        tracks = self.tracker.coast(image.stamp * 1e-9)
        self.counts['frames_coasted'] += 1
        header = Header(frame_id=image.frame_id)
        header.stamp.sec, header.stamp.nanosec = divmod(image.stamp, 10**9)
        self._pub_tracks.publish(tracks_to_msg(tracks, header, self._class_names))
        if not self._coasting:
            self.get_logger().warning('no detections for the images: publishing motion '
                                      'predictions (predicted: true) until they return')
            self._coasting = True

    def _track_ready(self) -> None:
        """Track every frame that is complete or has waited long enough."""
        for frame in self._sync.pop_ready(time.monotonic(), self._expected_parts()):
            timing = FrameTiming(frame.stamp)
            parts = {}
            for key, part in (('detections', frame.primary), *frame.parts.items()):
                if part is not None:
                    parts[key], reception, callback = part
                    timing.since_stamp(f'{key}_dds', reception)
                    timing.since_stamp(f'{key}_in', callback)
            timing.since_stamp('paired')
            timing.restart()
            try:
                tracked_before = self.counts['frames']
                self.track(parts['detections'], parts.get('masks'), parts.get('image'), timing)
                if self._coasting:
                    self._coasting = False
                    self.get_logger().info('detections are back: matching resumed '
                                           f'({self.counts["frames_coasted"]} frames coasted so far)')
                if self.counts['frames'] > tracked_before:  # tracks published
                    self.health.output(time.time() - frame.primary[2])
            except Exception as exc:  # one bad frame (or embedder failure) must not stop tracking
                self.counts['frames_failed'] += 1
                self.health.drop('failed')
                self.get_logger().error(f'tracking a frame failed: {exc}',
                                        throttle_duration_sec=WARN_PERIOD_S)

    def _check_stamp(self, stamp: int) -> bool:
        """False for a repeated stamp; logs (and clears trails) when time went backwards."""
        last, self._last_stamp = self._last_stamp, stamp
        if last is not None and stamp == last:
            self._last_stamp = last
            self.counts['duplicate_stamps'] += 1
            self.health.drop('duplicate_stamp')
            self.get_logger().warning(
                f'skipping detections with a repeated stamp '
                f'({self.counts["duplicate_stamps"]} so far)',
                throttle_duration_sec=WARN_PERIOD_S)
            return False
        if last is not None and stamp < last:
            self.counts['resets'] += 1
            self._drawer.reset()
            self.get_logger().warning(f'stamp went backwards by {(last - stamp) * 1e-9:.3f} s '
                                      '(bag looped or clock reset): resetting the tracker')
        return True

    def _paired_image(self, decoded: DecodedImage | None):
        """``(RGB pixels, MotionFrame)`` of the paired image (decoded by _on_image); Nones
        (counted) when missing or malformed."""
        if decoded is None:
            self.counts['frames_without_image'] += 1
            return None, None
        if decoded.error is not None:
            self.counts['images_rejected'] += 1
            self.get_logger().warning(
                f'tracking without the malformed image '
                f'({self.counts["images_rejected"]} so far): {decoded.error}',
                throttle_duration_sec=WARN_PERIOD_S)
        return decoded.rgb, decoded.motion

    def _decode_detections(self, det_msg, masks_msg):
        """``(Detections, masks message or None)``; masks that do not fit are dropped (counted)."""
        try:
            dets = msgs_to_detections(det_msg, masks_msg, self._class_names)
        except ValueError as exc:
            self.counts['masks_mismatched'] += 1
            self.get_logger().warning(f'ignoring masks: {exc}', throttle_duration_sec=WARN_PERIOD_S)
            masks_msg = None
            dets = msgs_to_detections(det_msg, None, self._class_names)
        self._class_names = dets.class_names
        return dets, masks_msg

    def track(self, det_msg: Detection2DArray, masks_msg=None,
              image: DecodedImage | None = None, timing: FrameTiming | None = None) -> None:
        """Update the tracker with one frame and publish tracks (and the annotated image)."""
        stamp = stamp_to_ns(det_msg.header.stamp)
        timing = timing or FrameTiming(stamp)
        if not self._check_stamp(stamp):
            return
        dets, masks_msg = self._decode_detections(det_msg, masks_msg)
        image, motion = self._paired_image(image)
        timing.lap('decode')
        image_size = None
        if image is None and masks_msg is not None and masks_msg.image_width:
            image_size = (masks_msg.image_width, masks_msg.image_height)
        rejected_before = self._rejected_detections()
        try:
            tracks = self.tracker.update(dets.boxes, dets.scores, dets.class_ids, stamp * 1e-9,
                                         image=image, masks=dets.masks,
                                         mask_origins=dets.mask_origins, image_size=image_size,
                                         motion_frame=motion)
        except ValueError as exc:
            self.counts['frames_rejected'] += 1
            self.health.drop('rejected')
            self.get_logger().warning(f'skipping a frame the tracker rejected: {exc}',
                                      throttle_duration_sec=WARN_PERIOD_S)
            return
        timing.lap('update')
        rejected = self._rejected_detections() - rejected_before
        if rejected:
            self.get_logger().warning(
                f'skipped {rejected} of {len(dets)} detections (NaN, empty or outside the image); '
                'see the counters', throttle_duration_sec=WARN_PERIOD_S)
        self.counts['frames'] += 1
        header = det_msg.header
        tracks_msg = tracks_to_msg(tracks, header, self._class_names, masks_msg)
        timing.lap('build')
        self._pub_tracks.publish(tracks_msg)
        timing.lap('publish')
        timing.since_stamp('tracks_out')
        self._pub_detections.publish(confirmed_detections(tracks, header, self._class_names))
        self._drawer.update(tracks)
        timing.lap('detections')
        self._prepare_next(stamp)
        timing.lap('motion_ahead')
        # The annotated image comes last: drawing and sending 720p must not delay the tracks.
        if image is not None and self._annotated_wanted():
            annotated = self._drawer.draw(image, tracks, dets)
            timing.lap('draw')
            self._pub_image.publish(array_to_image(annotated, 'rgb8', header))
            timing.lap('image_publish')
        if self._log_timing:
            self.get_logger().debug(timing.line())

    def _rejected_detections(self) -> int:
        """Detections the tracker has refused so far (NaN, empty, outside the image)."""
        return sum(v for k, v in self.tracker.stats.items() if k.startswith('rejected_'))

    def _log_counts(self) -> None:
        """Periodic diagnostics line: node, matcher and tracker counters."""
        counters = {**self.counts, **self._sync.counts,
                    **{k: v for k, v in self.tracker.stats.items() if k.startswith('rejected_')}}
        self.get_logger().info(' '.join(f'{k}={v}' for k, v in counters.items()))


def main(args=None) -> int:
    """Entry point: ``tracker_node --ros-args ...``."""
    return run_node(TrackerNode, NODE_NAME, args)


if __name__ == '__main__':
    raise SystemExit(main())
