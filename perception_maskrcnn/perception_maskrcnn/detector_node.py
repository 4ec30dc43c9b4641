"""ROS 2 managed node ``detector_node``: camera images in; detections, masks and annotated images out.

Lifecycle (``ManagedNode``): configure loads the model and warms it up (one inference on a
blank frame) and creates the publishers; activate subscribes to the camera and starts the
inference thread; deactivate stops both; cleanup releases the model. ``autostart`` (default)
goes to active at start-up. Its status goes to ``/diagnostics`` every second (``diagnostics``).

The subscription callback only hands the message to a worker thread through a bounded queue
(``queue_size`` 1 = newest frame only), so when inference is slower than the camera stale frames
are dropped and counted instead of queueing up: latency stays bounded. Detections and masks
are published as soon as inference ends; the annotated image follows, and is drawn only while
somebody subscribes. With ``--log-level detector_node:=debug`` every frame logs its stage times
(``frame_timing``), among them its own inference time.
"""
from __future__ import annotations

import collections
import sys
import threading
import time

import cv2
import numpy as np

from rclpy.clock import Clock, ClockType
from rclpy.logging import LoggingSeverity
from sensor_msgs.msg import CompressedImage, Image
from perception_msgs.msg import InstanceMaskArray
from vision_msgs.msg import Detection2DArray

from perception_maskrcnn.backends import choose_backend, create_detector
from perception_ros_glue.diagnostics import DIAGNOSTICS_PARAMETERS, Counters, NodeDiagnostics
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

PARAMETERS = (
    ParamSpec('backend', 'auto', "Detector backend: 'maskrcnn', 'maskrcnn_v2', 'yolo', 'hog' "
              "(offline fallback, no weights) or 'auto' (given or locally found weights, else "
              "hog)."),
    ParamSpec('weights', '', 'Weights: local .pth/.pt file, torchvision or ultralytics name; '
              "empty = the backend's default. Ultralytics .pt files are pickles: trusted files "
              "only."),
    ParamSpec('device', 'auto', "Inference device: 'auto', 'cpu', 'cuda' or 'cuda:N'."),
    ParamSpec('runtime', 'auto', "YOLO inference runtime: 'torch', 'onnx' (ONNX Runtime), "
              "'openvino', 'tensorrt' (CUDA) or 'auto' (fastest installed for the device: "
              'tensorrt on CUDA, openvino on the CPU). Non-torch runtimes export the weights on '
              'first use and cache the export beside them. Other backends ignore it.'),
    ParamSpec('precision', 'auto', "YOLO precision: 'fp32', 'fp16' (CUDA), 'int8' (runtime "
              "openvino or tensorrt: post-training quantization, ~2x faster than fp32 on the CPU, "
              "boxes close to but not identical with fp32) or 'auto' (fp16 on CUDA, else fp32)."),
    ParamSpec('int8_calibration', '', 'Folder of images (camera frames) that calibrate precision '
              "int8; empty = the two street photos shipped with ultralytics."),
    ParamSpec('score_threshold', 0.5, 'Minimum detection score in [0, 1].'),
    ParamSpec('classes', [], 'Class names to keep (e.g. [car, truck]); empty = all classes.'),
    ParamSpec('max_detections', 100, 'Keep at most this many detections per image (best first).'),
    ParamSpec('input_size', 0, 'Model input size: short side for Mask R-CNN, imgsz for YOLO; '
              "0 = the backend's default."),
    ParamSpec('allow_random_init', False, 'Mask R-CNN without weights gets random weights '
              '(plumbing tests only: its detections are meaningless).'),
    ParamSpec('input', 'raw', "Input topic type: 'raw' (sensor_msgs/Image on 'image') or "
              "'compressed' (sensor_msgs/CompressedImage on 'image/compressed')."),
    ParamSpec('qos', 'sensor_data', "Input QoS: 'sensor_data' (best effort) or 'reliable'."),
    ParamSpec('queue_size', 1, 'Frames waiting for inference; when full the oldest is dropped '
              '(1 = always work on the newest frame).'),
    ParamSpec('inference_threads', 0, 'CPU threads of inference (torch and OpenCV); 0 = the '
              "libraries' default (every core). Fewer leave cores to DDS, the callbacks and the "
              'tracker: lower latency around inference, slower inference.'),
    ParamSpec('publish_annotated', False, "Publish 'detections/image' (masks, boxes, labels)."),
    ParamSpec('diagnostics_period_s', 10.0, 'Period of the counters log line [s]; 0 = never.'),
    ParamSpec('warmup', True, 'Run one inference on a blank frame when configuring, so that the '
              'first camera frame does not pay the first-call costs (allocation, JIT, export).'),
) + DIAGNOSTICS_PARAMETERS
WARMUP_SHAPE = (480, 640, 3)


def _resolved(params: dict) -> tuple[str, object, str]:
    """(backend, weights, note) of these parameters, ``auto`` resolved without loading anything."""
    if params['backend'] == 'auto':
        return choose_backend(params['weights'] or None)
    return params['backend'], params['weights'] or None, ''


def detector_weights(params: dict):
    """The weights ``build_detector`` would load from these parameters (``auto`` resolved)."""
    return _resolved(params)[1]


def build_detector(params: dict):
    """The detector the parameters ask for; WeightsError/ValueError on a bad configuration."""
    # Resolve first so that backend-specific options go only to the backend that takes them.
    backend, weights, note = _resolved(params)
    options = {}
    if backend.startswith('maskrcnn'):
        options['allow_random_init'] = params['allow_random_init']
        if params['input_size']:
            options['min_size'] = params['input_size']
    elif backend == 'yolo':
        options.update(runtime=params['runtime'], precision=params['precision'],
                       int8_calibration=params['int8_calibration'] or None)
        if params['input_size']:
            options['imgsz'] = params['input_size']
    detector = create_detector(backend, weights, params['device'], params['score_threshold'],
                               [c for c in params['classes'] if c] or None,
                               params['max_detections'], **options)
    detector.selection_note = note or detector.selection_note
    return detector


def limit_inference_threads(threads: int) -> None:
    """Cap the CPU threads of OpenCV and (when a backend loaded it) torch; 0 leaves the defaults."""
    if threads <= 0:
        return
    cv2.setNumThreads(threads)
    if 'torch' in sys.modules:  # the HOG fallback never imports torch: don't load it for this
        sys.modules['torch'].set_num_threads(threads)


class DetectorNode(ManagedNode):
    """Runs a ``Detector`` on the newest camera frame and publishes its results."""

    def __init__(self):
        super().__init__(NODE_NAME, PARAMETERS)
        self.detector = None
        self._worker = None
        self._subscription = self._log_timer = None
        self.counts = collections.Counter(received=0, processed=0, dropped_stale=0, rejected=0,
                                          failed=0)
        self._inference_s = 0.0
        self.health = Counters(('stale', 'malformed', 'failed'))
        self.diagnostics = NodeDiagnostics(self, self.health, self._describe,
                                           lambda: self.lifecycle_state == 'active')

    def configure(self, params: dict) -> None:
        """Check the parameters, load the model and warm it up, create the publishers."""
        check_choice('input', params['input'], ('raw', 'compressed'))
        self._qos = input_qos(params['qos'])
        self.detector = build_detector(params)
        limit_inference_threads(params['inference_threads'])
        if params['warmup']:
            self.detector.detect(np.zeros(WARMUP_SHAPE, np.uint8))
        self.get_logger().info(f'detector: {self.detector.describe()}'
                               + (f", {params['inference_threads']} inference thread(s)"
                                  if params['inference_threads'] > 0 else ''))
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
            info['detector'] = self.detector.describe()
            info['device'] = self.params['device']
            info['runtime'] = self.params['runtime']
            done = self.counts['processed']
            info['mean_inference_ms'] = f'{1000.0 * self._inference_s / done:.1f}' if done else '0'
            # Readers matched to the detections writer: 0 means nobody (no tracker) gets them.
            info['detections_subscribers'] = self._pub_detections.get_subscription_count()
        return info

    def _on_image(self, data: bytes, info) -> None:
        """Hand the frame to the worker; a frame it replaces is stale and counted as dropped."""
        self.counts['received'] += 1
        self.health.input()
        try:
            msg = self._parse(data)
        except ImageConversionError as exc:
            self._reject(exc)
            return
        # DDS reception and callback times travel with the frame, for the timing log.
        if self._frames.put((msg, info['received_timestamp'] * 1e-9, time.time())):
            self.counts['dropped_stale'] += 1
            self.health.drop('stale')
            self.get_logger().warning(
                f'inference slower than the camera: {self.counts["dropped_stale"]} stale frames '
                'dropped so far', throttle_duration_sec=WARN_PERIOD_S)

    def _work(self) -> None:
        """Worker loop: newest frame -> detector -> messages, until the node is destroyed."""
        while (item := self._frames.get()) is not None:
            msg, reception, callback = item
            timing = FrameTiming(stamp_to_ns(msg.header.stamp))
            timing.since_stamp('image_dds', reception)
            timing.since_stamp('image_in', callback)
            timing.since_stamp('picked')
            timing.restart()
            try:
                self.process(msg, timing, callback)
            except Exception as exc:  # the thread must survive; at shutdown, publish may fail
                if not self.context.ok():
                    return
                self.counts['failed'] += 1
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
        start = time.perf_counter()
        try:
            detections = self.detector.detect(image)
        except Exception as exc:  # a model failure on one frame must not kill the camera pipeline
            self.counts['failed'] += 1
            self.health.drop('failed')
            self.get_logger().error(f'detector failed on a frame: {exc}',
                                    throttle_duration_sec=WARN_PERIOD_S)
            return None
        self._inference_s += time.perf_counter() - start
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
        self.counts['processed'] += 1
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
        done = self.counts['processed']
        mean_ms = 1000.0 * self._inference_s / done if done else 0.0
        counters = ' '.join(f'{k}={v}' for k, v in self.counts.items())
        self.get_logger().info(f'{counters} mean_inference_ms={mean_ms:.1f}')


def main(args=None) -> int:
    """Entry point: ``detector_node --ros-args ...``."""
    return run_node(DetectorNode, NODE_NAME, args)


if __name__ == '__main__':
    raise SystemExit(main())
