"""Image message <-> numpy: every encoding, zero-copy views, clear errors for malformed input."""
import array
import struct

import cv2
import numpy as np
import pytest
from sensor_msgs.msg import CompressedImage, Image

from rclpy.serialization import serialize_message

from perception_ros_glue.image_conversion import (ImageConversionError, array_to_image,
                                                  compressed_from_cdr, compressed_to_rgb,
                                                  header_from_cdr, image_from_cdr,
                                                  image_to_array, image_to_rgb)

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, (7, 5, 3), dtype=np.uint8)


def padded(pixels: np.ndarray, encoding: str, pad: int) -> Image:
    """An Image whose rows carry ``pad`` extra bytes (step > width * channels)."""
    rows = pixels.reshape(pixels.shape[0], -1).view(np.uint8)
    data = np.zeros((rows.shape[0], rows.shape[1] + pad), np.uint8)
    data[:, :rows.shape[1]] = rows
    return Image(height=pixels.shape[0], width=pixels.shape[1], encoding=encoding,
                 step=data.shape[1], data=array.array('B', data.tobytes()))


@pytest.mark.parametrize('encoding,pixels,rgb', [
    ('rgb8', RGB, RGB),
    ('bgr8', RGB[..., ::-1].copy(), RGB),
    ('rgba8', np.dstack([RGB, np.full(RGB.shape[:2], 9, np.uint8)]), RGB),
    ('bgra8', np.dstack([RGB[..., ::-1], np.full(RGB.shape[:2], 9, np.uint8)]), RGB),
    ('mono8', RGB[..., 0].copy(), np.repeat(RGB[..., :1], 3, axis=2)),
    ('mono16', RGB[..., 0].astype(np.uint16) << 8, np.repeat(RGB[..., :1], 3, axis=2)),
])
@pytest.mark.parametrize('pad', [0, 3])
def test_every_encoding_round_trips_to_rgb_without_copying_on_the_way_in(encoding, pixels, rgb,
                                                                         pad):
    if pad:
        msg = padded(pixels, encoding, pad * pixels.itemsize)
    else:
        msg = array_to_image(pixels, encoding)
    view = image_to_array(msg)
    np.testing.assert_array_equal(view, pixels)
    assert np.shares_memory(view, np.frombuffer(msg.data, np.uint8)), 'a view, not a copy'
    np.testing.assert_array_equal(image_to_rgb(msg), rgb)


def test_rgb8_reaches_the_detector_as_the_message_buffer_itself():
    msg = array_to_image(RGB, 'rgb8')
    assert np.shares_memory(image_to_rgb(msg), np.frombuffer(msg.data, np.uint8))


def test_array_to_image_sets_header_and_layout():
    from std_msgs.msg import Header
    header = Header(frame_id='cam')
    msg = array_to_image(RGB, 'rgb8', header)
    assert (msg.height, msg.width, msg.step, msg.encoding) == (7, 5, 15, 'rgb8')
    assert msg.header.frame_id == 'cam' and len(msg.data) == RGB.size
    with pytest.raises(ImageConversionError, match='does not match'):
        array_to_image(RGB, 'mono8')


def _bad(**changes) -> Image:
    msg = array_to_image(RGB, 'rgb8')
    for key, value in changes.items():
        setattr(msg, key, value)
    return msg


@pytest.mark.parametrize('msg,reason', [
    (_bad(encoding='yuv422'), 'unsupported encoding'),
    (_bad(step=10), 'step 10 < width'),
    (_bad(data=array.array('B', bytes(20))), 'data has 20 bytes'),
    (_bad(width=0), 'empty image'),
    (Image(encoding='rgb8'), 'empty image'),
    (Image(height=2, width=2, step=4, encoding='mono16', is_bigendian=1,
           data=array.array('B', bytes(8))), 'big-endian'),
    (Image(height=1, width=1, step=3, encoding='mono16', data=array.array('B', bytes(3))),
     'not a multiple'),
])
def test_malformed_images_raise_with_the_reason(msg, reason):
    with pytest.raises(ImageConversionError, match=reason):
        image_to_array(msg)


@pytest.mark.parametrize('ext', ['.png', '.jpg'])
def test_compressed_images_decode_to_rgb(ext):
    image = np.zeros((32, 48, 3), np.uint8)
    image[:, :24] = (250, 10, 10)  # red left half survives jpeg
    ok, data = cv2.imencode(ext, cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    assert ok
    rgb = compressed_to_rgb(CompressedImage(format=ext[1:], data=data.tobytes()))
    assert rgb.shape == image.shape
    tolerance = 0 if ext == '.png' else 20  # jpeg: compare away from the edge it blurs
    assert np.abs(rgb[:, :16].astype(int) - image[:, :16]).max() <= tolerance
    assert np.abs(rgb[:, 32:].astype(int) - image[:, 32:]).max() <= tolerance


def test_corrupt_or_empty_compressed_images_raise():
    with pytest.raises(ImageConversionError, match='could not decode 4 bytes'):
        compressed_to_rgb(CompressedImage(format='jpeg', data=b'junk'))
    with pytest.raises(ImageConversionError, match='empty compressed'):
        compressed_to_rgb(CompressedImage(format='jpeg'))


@pytest.mark.parametrize('frame_id', ['', 'c', 'camera', 'camera_optical'])  # every alignment
@pytest.mark.parametrize('encoding,pixels,pad', [
    ('rgb8', RGB, 0), ('bgr8', RGB, 3), ('mono16', RNG.integers(0, 65535, (7, 5), np.uint16), 2)])
def test_serialised_images_parse_to_the_same_pixels_without_a_copy(frame_id, encoding, pixels,
                                                                   pad):
    msg = padded(pixels, encoding, pad)
    msg.header.frame_id, msg.header.stamp.sec, msg.header.stamp.nanosec = frame_id, -3, 999
    buffer = serialize_message(msg)
    raw = image_from_cdr(buffer)
    assert raw.header == msg.header
    assert (raw.height, raw.width, raw.encoding, raw.is_bigendian, raw.step) == (
        msg.height, msg.width, msg.encoding, msg.is_bigendian, msg.step)
    np.testing.assert_array_equal(image_to_rgb(raw), image_to_rgb(msg))
    if encoding == 'rgb8':
        assert np.shares_memory(image_to_rgb(raw), np.frombuffer(buffer, np.uint8))


def test_big_endian_cdr_parses():
    # Hand-written big-endian CDR: stamp 1.2, frame 'ab', 1x2 mono8, step 2, data [7, 9];
    # fields aligned to their size, counted from after the 4-byte encapsulation header.
    buffer = (b'\x00\x00\x00\x00' + struct.pack('>iII', 1, 2, 3) + b'ab\x00' + b'\x00'
              + struct.pack('>III', 1, 2, 6) + b'mono8\x00' + b'\x00' + b'\x00'
              + struct.pack('>II', 2, 2) + bytes([7, 9]))
    raw = image_from_cdr(buffer)
    assert (raw.header.stamp.sec, raw.header.stamp.nanosec, raw.header.frame_id) == (1, 2, 'ab')
    assert (raw.height, raw.width, raw.encoding, raw.step) == (1, 2, 'mono8', 2)
    np.testing.assert_array_equal(image_to_array(raw), [[7, 9]])


def test_every_truncation_of_a_serialised_image_raises():
    buffer = serialize_message(padded(RGB, 'rgb8', 1))
    for size in range(len(buffer)):
        with pytest.raises(ImageConversionError):
            image_to_rgb(image_from_cdr(buffer[:size]))


@pytest.mark.parametrize('buffer,reason', [
    (b'', 'not a CDR'), (b'\x7f\x01\x00\x00' + bytes(40), 'not a CDR'),
    (b'\x00\x01\x00\x00' + bytes(8) + (1 << 30).to_bytes(4, 'little'), 'truncated')])
def test_garbage_is_not_an_image(buffer, reason):
    with pytest.raises(ImageConversionError, match=reason):
        image_from_cdr(buffer)


def test_serialised_images_keep_the_validation():
    bad = padded(RGB, 'rgb8', 0)
    bad.encoding = 'yuv422'
    with pytest.raises(ImageConversionError, match='unsupported encoding'):
        image_to_rgb(image_from_cdr(serialize_message(bad)))
    short = padded(RGB, 'rgb8', 0)
    short.step = 2
    with pytest.raises(ImageConversionError, match='step'):
        image_to_rgb(image_from_cdr(serialize_message(short)))
    empty = Image(encoding='rgb8')
    with pytest.raises(ImageConversionError, match='empty'):
        image_to_rgb(image_from_cdr(serialize_message(empty)))


def test_serialised_compressed_images_parse_and_decode():
    ok, jpeg = cv2.imencode('.png', RGB[..., ::-1])
    msg = CompressedImage(format='png', data=array.array('B', jpeg.tobytes()))
    msg.header.frame_id = 'cam'
    raw = compressed_from_cdr(serialize_message(msg))
    assert (raw.header.frame_id, raw.format) == ('cam', 'png')
    np.testing.assert_array_equal(compressed_to_rgb(raw), RGB)
    with pytest.raises(ImageConversionError, match='empty'):
        compressed_to_rgb(compressed_from_cdr(serialize_message(CompressedImage(format='png'))))
    with pytest.raises(ImageConversionError, match='truncated'):
        compressed_from_cdr(serialize_message(msg)[:-1])


def test_header_of_any_serialised_message_with_one():
    from vision_msgs.msg import Detection2DArray

    msg = Detection2DArray()
    msg.header.stamp.sec, msg.header.stamp.nanosec, msg.header.frame_id = 1700000000, 123456789, 'cam'
    header = header_from_cdr(serialize_message(msg))
    assert (header.stamp.sec, header.stamp.nanosec, header.frame_id) == (1700000000, 123456789, 'cam')
    with pytest.raises(ImageConversionError, match='not a CDR message'):
        header_from_cdr(b'\xff\xff\x00\x00')
