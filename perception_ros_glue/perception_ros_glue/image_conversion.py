"""sensor_msgs/Image and CompressedImage <-> numpy: a view on the message buffer on the way in.

Works on message objects only (no rclpy). Uses ``cv_bridge`` for raw images when the ROS install
has it; otherwise the same encodings are decoded here into a numpy view of ``msg.data``, so no
pixel is copied until a colour conversion is really needed. Nodes subscribing with ``raw=True``
get the serialised message: ``image_from_cdr`` / ``compressed_from_cdr`` read its fields and
leave the pixel bytes in place (deserialising a 720p message costs over a millisecond).
"""
from __future__ import annotations

import array
import struct
from dataclasses import dataclass

import cv2
import numpy as np
from builtin_interfaces.msg import Time
from sensor_msgs.msg import Image
from std_msgs.msg import Header

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


@dataclass(slots=True)
class RawImage:
    """The fields of a serialised ``sensor_msgs/Image``; ``data`` is a view on the buffer."""

    header: Header
    height: int
    width: int
    encoding: str
    is_bigendian: int
    step: int
    data: memoryview


@dataclass(slots=True)
class RawCompressedImage:
    """The fields of a serialised ``sensor_msgs/CompressedImage``; ``data`` views the buffer."""

    header: Header
    format: str
    data: memoryview


# CDR encapsulation id -> struct byte order: plain CDR and XCDR2, big and little endian (these
# messages have no 8-byte fields, so both encodings lay them out alike).
_BYTE_ORDERS = {b'\x00\x00': '>', b'\x00\x01': '<', b'\x00\x06': '>', b'\x00\x07': '<'}


class _CdrReader:
    """Sequential reader of the CDR fields of one serialised message."""

    def __init__(self, buffer):
        self.view = memoryview(buffer).cast('B')
        order = _BYTE_ORDERS.get(bytes(self.view[:2]))
        if len(self.view) < 4 or order is None:
            raise ImageConversionError(
                f'not a CDR message (encapsulation {bytes(self.view[:4]).hex() or "missing"})')
        self._uint32 = struct.Struct(order + 'I')
        self._int32 = struct.Struct(order + 'i')
        self.pos = 4  # alignment counts from after the encapsulation header

    def _take(self, size: int, align: int = 1) -> int:
        """Start offset of the next ``size`` bytes after aligning; raises when truncated."""
        start = self.pos + (-(self.pos - 4) % align)
        if start + size > len(self.view):
            raise ImageConversionError(f'truncated message: {len(self.view)} bytes, field at '
                                       f'{start} needs {size}')
        self.pos = start + size
        return start

    def uint32(self) -> int:
        """Next uint32."""
        return self._uint32.unpack_from(self.view, self._take(4, 4))[0]

    def int32(self) -> int:
        """Next int32."""
        return self._int32.unpack_from(self.view, self._take(4, 4))[0]

    def uint8(self) -> int:
        """Next uint8 (or bool)."""
        return self.view[self._take(1)]

    def octets(self) -> memoryview:
        """Next uint8[] sequence, as a view on the buffer (no copy)."""
        size = self.uint32()
        start = self._take(size)
        return self.view[start:start + size]

    def string(self) -> str:
        """Next string (its length counts the terminating NUL)."""
        raw = self.octets()
        return bytes(raw[:-1] if len(raw) and raw[-1] == 0 else raw).decode('utf-8', 'replace')

    def header(self) -> Header:
        """Next std_msgs/Header."""
        sec, nanosec = self.int32(), self.uint32()
        return Header(stamp=Time(sec=sec, nanosec=nanosec), frame_id=self.string())


def header_from_cdr(buffer) -> Header:
    """The leading ``std_msgs/Header`` of a serialised message of any type that starts with one."""
    return _CdrReader(buffer).header()


def image_from_cdr(buffer) -> RawImage:
    """The fields of a serialised ``sensor_msgs/Image`` (``raw=True`` subscription), pixels
    left in ``buffer``; ImageConversionError when it is not one or is truncated."""
    cdr = _CdrReader(buffer)
    return RawImage(cdr.header(), cdr.uint32(), cdr.uint32(), cdr.string(), cdr.uint8(),
                    cdr.uint32(), cdr.octets())


def compressed_from_cdr(buffer) -> RawCompressedImage:
    """The fields of a serialised ``sensor_msgs/CompressedImage``, bytes left in ``buffer``."""
    cdr = _CdrReader(buffer)
    return RawCompressedImage(cdr.header(), cdr.string(), cdr.octets())


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
    if _BRIDGE is not None and isinstance(msg, Image):  # a RawImage is decoded here
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
