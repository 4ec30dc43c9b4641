"""ROS 2 managed node ``detector_node``: camera images in; detections, masks and annotated images out.

Lifecycle (``ManagedNode``): configure loads the model and warms it up (one inference on a
blank frame) and creates the publishers; activate subscribes to the camera and starts the
inference thread; deactivate stops both; cleanup releases the model. ``autostart`` (default)
goes to active at start-up. Its status goes to ``/diagnostics`` every second (``diagnostics``).

The subscription callback only hands the message to a worker thread through a bounded queue
(``queue_size`` 1 = newest frame only), so when inference is slower than the camera it takes the
newest frame and the older ones are dropped and counted instead of queueing up: latency stays
bounded, and the tracker follows every frame without waiting for it. ``/diagnostics`` shows the
camera rate against the detection rate and the detection latency. Detections and masks
are published as soon as inference ends; the annotated image follows, and is drawn only while
somebody subscribes. With ``--log-level detector_node:=debug`` every frame logs its stage times
(``frame_timing``), among them its own inference time.
"""
from __future__ import annotations

import collections
import threading
import time

from rclpy.clock import Clock, ClockType
from rclpy.logging import LoggingSeverity
from sensor_msgs.msg import CompressedImage, Image
from perception_msgs.msg import InstanceMaskArray
from vision_msgs.msg import Detection2DArray

from perception_maskrcnn.frame_detector import MODEL_PARAMETERS, FrameDetector
from perception_ros_glue.diagnostics import (DIAGNOSTICS_PARAMETERS, Counters, EventRate,
                                             NodeDiagnostics)
from perception_ros_glue.frame_queue import LatestFrames
from perception_ros_glue.frame_timing import FrameTiming
from perception_ros_glue.image_conversion import (ImageConversionError, array_to_image,
                                                  compressed_from_cdr, compressed_to_rgb,
                                                  image_from_cdr, image_to_rgb)
from perception_ros_glue.managed_node import ManagedNode
from perception_ros_glue.node_main import run_node
from perception_ros_glue.node_params import OUTPUT_QOS, ParamSpec, check_choice, input_qos
from perception_ros_glue.ros_conversions import detections_to_msgs, stamp_to_ns
from perception_ros_glue.visualization import color_for, draw_instances

NODE_NAME = 'detector_node'
WARN_PERIOD_S = 5.0

PARAMETERS = MODEL_PARAMETERS + (
    ParamSpec('input', 'raw', "Input topic type: 'raw' (sensor_msgs/Image on 'image') or "
              "'compressed' (sensor_msgs/CompressedImage on 'image/compressed')."),
    ParamSpec('qos', 'sensor_data', "Input QoS: 'sensor_data' (best effort) or 'reliable'."),
    ParamSpec('queue_size', 1, 'Frames waiting for inference; when full the oldest is dropped '
              '(1 = always work on the newest frame).'),
    ParamSpec('publish_annotated', False, "Publish 'detections/image' (masks, boxes, labels)."),
    ParamSpec('diagnostics_period_s', 10.0, 'Period of the counters log line [s]; 0 = never.'),
) + DIAGNOSTICS_PARAMETERS


class DetectorNode(ManagedNode):
    """Runs a ``Detector`` on the newest camera frame and publishes its results."""

    def __init__(self):
        super().__init__(NODE_NAME, PARAMETERS)
        self.detector = None
        self._worker = None
        self._subscription = self._log_timer = None
        self.counts = collections.Counter(received=0, dropped_stale=0, rejected=0)
        # Camera frames in against detections out, and each one's latency (arrival -> published).
        self._camera_rate, self._detection_rate = EventRate(), EventRate()
        self.health = Counters(('malformed', 'failed'))
        self.diagnostics = NodeDiagnostics(self, self.health, self._describe,
                                           lambda: self.lifecycle_state == 'active')

    def configure(self, params: dict) -> None:
        """Check the parameters, load the model and warm it up, create the publishers."""
        check_choice('input', params['input'], ('raw', 'compressed'))
        self._qos = input_qos(params['qos'])
        self.detector = FrameDetector(params)
        self.get_logger().info(f'detector: {self.detector.describe()}')
        # Per-frame stage times are logged only at debug level (--log-level detector_node:=debug).
        self._log_timing = self.get_logger().get_effective_level() <= LoggingSeverity.DEBUG
        self._pub_detections = self.output(Detection2DArray, 'detections', OUTPUT_QOS)
        self._pub_masks = self.output(InstanceMaskArray, 'detections/masks', OUTPUT_QOS)
        self._pub_image = (self.output(Image, 'detections/image', OUTPUT_QOS)
                           if params['publish_annotated'] else None)

    def activate(self) -> None:
        """Subscribe to the camera and start the inference thread."""
        self._frames = LatestFrames(self.params['queue_size'])
        # Serialised messages: the fields are read in place, the pixels are not copied again
        # (deserialising 720p costs over a millisecond of the callback).
        if self.params['input'] == 'raw':
            self._parse, self._decode = image_from_cdr, image_to_rgb
            self._subscription = self.create_subscription(Image, 'image', self._on_image,
                                                          self._qos, raw=True)
        else:
            self._parse, self._decode = compressed_from_cdr, compressed_to_rgb
            self._subscription = self.create_subscription(
                CompressedImage, 'image/compressed', self._on_image, self._qos, raw=True)
        # Steady clock: the counters line keeps coming under use_sim_time without /clock.
        if self.params['diagnostics_period_s'] > 0:
            self._log_timer = self.create_timer(self.params['diagnostics_period_s'],
                                                self._log_counts,
                                                clock=Clock(clock_type=ClockType.STEADY_TIME))
        self._worker = threading.Thread(target=self._work, name='inference', daemon=True)
        self._worker.start()

    def deactivate(self) -> None:
        """Unsubscribe, stop the inference thread (after its current frame), log the counters."""
        if self._subscription is not None:
            self.destroy_subscription(self._subscription)
            self._subscription = None
        if self._log_timer is not None:
            self.destroy_timer(self._log_timer)
            self._log_timer = None
        if self._worker is not None:
            self._frames.close()
            self._worker.join(timeout=10.0)
            self._worker = None
            self._log_counts()  # the final counters (the demo reports drops from them)

    def cleanup(self) -> None:
        """Release the model and the publishers."""
        self.release_outputs()
        self.detector = None

    def _describe(self) -> dict:
        """What the node runs, for /diagnostics."""
        info = {'lifecycle_state': self.lifecycle_state}
        if self.detector is not None:
            now = time.monotonic()
            info['detector'] = self.detector.describe()
            info['device'] = self.params['device']
            info['runtime'] = self.params['runtime']
            info['mean_inference_ms'] = f'{self.detector.mean_inference_ms():.1f}'
            # The detector takes the newest frame: how many it answers, and how late.
            info['camera_rate_hz'] = f'{self._camera_rate.rate(now):.2f}'
            info['detection_rate_hz'] = f'{self._detection_rate.rate(now):.2f}'
            info['detection_latency_ms'] = f'{1000.0 * self._detection_rate.mean(now):.1f}'
            info['dropped_stale'] = self.counts['dropped_stale']
            # Readers matched to the detections writer: 0 means nobody (no tracker) gets them.
            info['detections_subscribers'] = self._pub_detections.get_subscription_count()
        return info

    def _on_image(self, data: bytes, info) -> None:
        """Hand the frame to the worker; a frame it replaces is stale and counted as dropped."""
        self.counts['received'] += 1
        self._camera_rate.add(time.monotonic())
        self.health.input()
        try:
            msg = self._parse(data)
        except ImageConversionError as exc:
            self._reject(exc)
            return
        # DDS reception and callback times travel with the frame, for the timing log.
        if self._frames.put((msg, info['received_timestamp'] * 1e-9, time.time(),
                             time.monotonic())):
            # By design when inference is slower than the camera (the tracker follows every
            # frame without it): counted and shown, not a fault.
            self.counts['dropped_stale'] += 1

    def _work(self) -> None:
        """Worker loop: newest frame -> detector -> messages, until the node is destroyed."""
        while (item := self._frames.get()) is not None:
            msg, reception, callback, arrival = item
            timing = FrameTiming(stamp_to_ns(msg.header.stamp))
            timing.since_stamp('image_dds', reception)
            timing.since_stamp('image_in', callback)
            timing.since_stamp('picked')
            timing.restart()
            try:
                if self.process(msg, timing, callback) is not None:
                    self._detection_rate.add(time.monotonic(), time.monotonic() - arrival)
            except Exception as exc:  # the thread must survive; at shutdown, publish may fail
                if not self.context.ok():
                    return
                self.health.drop('failed')
                self.get_logger().error(f'frame processing failed: {exc}',
                                        throttle_duration_sec=WARN_PERIOD_S)

    def process(self, msg, timing: FrameTiming | None = None, callback: float | None = None
                ) -> tuple[Detection2DArray, InstanceMaskArray] | None:
        """Detect in one image message and publish; malformed images are counted and skipped.
        ``callback``: wall time the image arrived (for the latency in /diagnostics)."""
        timing = timing or FrameTiming(0)
        try:
            image = self._decode(msg)
        except ImageConversionError as exc:
            self._reject(exc)
            return None
        timing.lap('decode')
        try:
            detections = self.detector.detect(image)
        except Exception as exc:  # a model failure on one frame must not kill the camera pipeline
            self.health.drop('failed')
            self.get_logger().error(f'detector failed on a frame: {exc}',
                                    throttle_duration_sec=WARN_PERIOD_S)
            return None
        timing.lap('inference')
        det_msg, mask_msg = detections_to_msgs(detections, msg.header, image.shape[1],
                                               image.shape[0])
        timing.lap('build')
        # Masks first: a tracker pairs them by stamp and starts work when the detections come.
        self._pub_masks.publish(mask_msg)
        self._pub_detections.publish(det_msg)
        timing.lap('publish')
        timing.since_stamp('detections_out')
        # The annotated image comes last, and only for a subscriber: 720p drawing is not free.
        if self._pub_image is not None and self._pub_image.get_subscription_count() > 0:
            labels = [f'{name} {score:.2f}'
                      for name, score in zip(detections.labels(), detections.scores)]
            annotated = draw_instances(image, detections.boxes, labels,
                                       [color_for(name) for name in detections.labels()],
                                       detections.masks, detections.mask_origins)
            timing.lap('draw')
            self._pub_image.publish(array_to_image(annotated, 'rgb8', msg.header))
            timing.lap('image_publish')
        if callback is not None:
            self.health.output(time.time() - callback)
        if self._log_timing:
            self.get_logger().debug(timing.line())
        return det_msg, mask_msg

    def _reject(self, exc: ImageConversionError) -> None:
        """Count and log a malformed image."""
        self.counts['rejected'] += 1
        self.health.drop('malformed')
        self.get_logger().warning(
            f'skipping malformed image ({self.counts["rejected"]} so far): {exc}',
            throttle_duration_sec=WARN_PERIOD_S)

    def _log_counts(self) -> None:
        """Periodic diagnostics line with every counter and the mean inference time."""
        counts = {**self.counts, **self.detector.counts}
        counters = ' '.join(f'{k}={v}' for k, v in counts.items())
        self.get_logger().info(f'{counters} mean_inference_ms={self.detector.mean_inference_ms():.1f}')


def main(args=None) -> int:
    """Entry point: ``detector_node --ros-args ...``."""
    return run_node(DetectorNode, NODE_NAME, args)


if __name__ == '__main__':
    raise SystemExit(main())
