"""sensor_msgs/Image and CompressedImage <-> numpy: a view on the message buffer on the way in.

Works on message objects only (no rclpy). Uses ``cv_bridge`` for raw images when the ROS install
has it; otherwise the same encodings are decoded here into a numpy view of ``msg.data``, so no
pixel is copied until a colour conversion is really needed.
"""
from __future__ import annotations

import array

import cv2
import numpy as np
from sensor_msgs.msg import Image

try:  # cv_bridge is not on PyPI; ROS installs from apt/source carry it.
    from cv_bridge import CvBridge, CvBridgeError
    _BRIDGE = CvBridge()
except ImportError:
    _BRIDGE = None

# encoding -> (dtype, channels)
ENCODINGS = {
    'rgb8': (np.uint8, 3),
    'bgr8': (np.uint8, 3),
    'rgba8': (np.uint8, 4),
    'bgra8': (np.uint8, 4),
    'mono8': (np.uint8, 1),
    '8UC1': (np.uint8, 1),
    'mono16': (np.uint16, 1),
    '16UC1': (np.uint16, 1),
}

# OpenCV conversion to RGB per encoding; None = already RGB.
_TO_RGB = {
    'rgb8': None,
    'bgr8': cv2.COLOR_BGR2RGB,
    'rgba8': cv2.COLOR_RGBA2RGB,
    'bgra8': cv2.COLOR_BGRA2RGB,
    'mono8': cv2.COLOR_GRAY2RGB,
    '8UC1': cv2.COLOR_GRAY2RGB,
    'mono16': cv2.COLOR_GRAY2RGB,
    '16UC1': cv2.COLOR_GRAY2RGB,
}


class ImageConversionError(ValueError):
    """An image message that cannot be turned into pixels; the message says why."""


def validate_image(msg) -> tuple[np.dtype, int]:
    """Check a ``sensor_msgs/Image`` for consistency; returns its ``(dtype, channels)``."""
    if msg.encoding not in ENCODINGS:
        raise ImageConversionError(
            f'unsupported encoding {msg.encoding!r} (supported: {", ".join(ENCODINGS)})')
    dtype, channels = ENCODINGS[msg.encoding]
    dtype = np.dtype(dtype)
    if msg.width == 0 or msg.height == 0:
        raise ImageConversionError(f'empty image ({msg.width}x{msg.height})')
    row_bytes = msg.width * channels * dtype.itemsize
    if msg.step < row_bytes:
        raise ImageConversionError(
            f'step {msg.step} < width {msg.width} x {channels} channels x {dtype.itemsize} bytes'
            f' = {row_bytes}')
    if len(msg.data) != msg.step * msg.height:
        raise ImageConversionError(
            f'data has {len(msg.data)} bytes, expected step {msg.step} x height {msg.height}'
            f' = {msg.step * msg.height}')
    if dtype.itemsize > 1:
        if msg.is_bigendian:
            raise ImageConversionError(f'big-endian {msg.encoding} is not supported')
        if msg.step % dtype.itemsize:
            raise ImageConversionError(f'step {msg.step} is not a multiple of {dtype.itemsize}')
    return dtype, channels


def image_to_array(msg) -> np.ndarray:
    """Pixels of a ``sensor_msgs/Image`` as a numpy view on ``msg.data`` (HxW or HxWxC, no copy).

    The view shares memory with the message: treat it as read-only.
    """
    dtype, channels = validate_image(msg)
    if _BRIDGE is not None:
        try:
            return _BRIDGE.imgmsg_to_cv2(msg, desired_encoding='passthrough')
        except CvBridgeError as exc:
            raise ImageConversionError(str(exc)) from exc
    row_bytes = msg.width * channels * dtype.itemsize
    rows = np.frombuffer(msg.data, dtype=np.uint8).reshape(msg.height, msg.step)
    # Slicing off the row padding keeps each row contiguous, so view/reshape stay views.
    pixels = rows[:, :row_bytes].view(dtype)
    if channels == 1:
        return pixels
    return pixels.reshape(msg.height, msg.width, channels)


def to_rgb(pixels: np.ndarray, encoding: str) -> np.ndarray:
    """HxWx3 uint8 RGB from pixels of ``encoding``; returns ``pixels`` itself when already rgb8."""
    if encoding not in _TO_RGB:
        raise ImageConversionError(f'unsupported encoding {encoding!r}')
    if pixels.dtype == np.uint16:
        pixels = (pixels >> 8).astype(np.uint8)  # keep the high byte: a display/detector range
    code = _TO_RGB[encoding]
    return pixels if code is None else cv2.cvtColor(pixels, code)


def image_to_rgb(msg) -> np.ndarray:
    """HxWx3 uint8 RGB of a ``sensor_msgs/Image`` (a view on the message when it is rgb8)."""
    return to_rgb(image_to_array(msg), msg.encoding)


def compressed_to_rgb(msg) -> np.ndarray:
    """HxWx3 uint8 RGB of a ``sensor_msgs/CompressedImage`` (jpeg or png)."""
    if len(msg.data) == 0:
        raise ImageConversionError(f'empty compressed image (format {msg.format!r})')
    bgr = cv2.imdecode(np.frombuffer(msg.data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ImageConversionError(
            f'could not decode {len(msg.data)} bytes of format {msg.format!r} '
            '(expected jpeg or png)')
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def array_to_image(pixels: np.ndarray, encoding: str = 'rgb8', header=None) -> Image:
    """A ``sensor_msgs/Image`` holding a copy of ``pixels`` (HxW or HxWxC) in ``encoding``."""
    if encoding not in ENCODINGS:
        raise ImageConversionError(f'unsupported encoding {encoding!r}')
    dtype, channels = ENCODINGS[encoding]
    if pixels.dtype != dtype or (pixels.shape[2] if pixels.ndim == 3 else 1) != channels:
        raise ImageConversionError(
            f'{pixels.dtype} array of shape {pixels.shape} does not match encoding {encoding!r}')
    msg = Image()
    if header is not None:
        msg.header = header
    msg.height, msg.width = pixels.shape[:2]
    msg.encoding = encoding
    msg.is_bigendian = 0
    msg.step = msg.width * channels * np.dtype(dtype).itemsize
    data = array.array('B')
    data.frombytes(np.ascontiguousarray(pixels).reshape(-1).view(np.uint8))  # the one copy
    msg.data = data
    return msg
