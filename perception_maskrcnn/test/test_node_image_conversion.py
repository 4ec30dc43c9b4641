"""Image message <-> numpy: every encoding, zero-copy views, clear errors for malformed input."""
import array

import cv2
import numpy as np
import pytest
from sensor_msgs.msg import CompressedImage, Image

from perception_maskrcnn.image_conversion import (ImageConversionError, array_to_image,
                                                  compressed_to_rgb, image_to_array, image_to_rgb)

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
