"""perception-video-to-bag: turn a video file into a rosbag2 of camera images at its frame rate."""
import argparse
import math
import time
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from perception_bringup import bag_io
from perception_bringup.cli import UserError, user_errors

PROG = 'perception-video-to-bag'


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split(': ', 1)[1])
    parser.add_argument('video', type=Path, help='input video (anything OpenCV can read)')
    parser.add_argument('out_bag', type=Path, help='output bag directory (must not exist)')
    parser.add_argument('--topic', default=None,
                        help='image topic (default /camera/image_raw, or /camera/image_raw/compressed '
                             'with --compressed)')
    parser.add_argument('--frame-id', default='camera', help='header frame_id (default: camera)')
    parser.add_argument('--compressed', action='store_true',
                        help='write sensor_msgs/CompressedImage (jpeg) instead of sensor_msgs/Image')
    parser.add_argument('--encoding', choices=('bgr8', 'rgb8'), default='bgr8',
                        help='raw image encoding (default: bgr8, what cameras and cv_bridge give)')
    parser.add_argument('--jpeg-quality', type=int, default=90, help='jpeg quality with --compressed')
    parser.add_argument('--storage', choices=sorted(bag_io.STORAGES), default='sqlite3',
                        help='rosbag2 storage (default: sqlite3)')
    parser.add_argument('--max-frames', type=int, default=None, help='stop after this many frames')
    parser.add_argument('--fps', type=float, default=None,
                        help='frame rate to stamp with (default: the video\'s own)')
    parser.add_argument('--start-time', type=float, default=None,
                        help='stamp of the first frame, seconds since the epoch (default: now)')
    return parser.parse_args(argv)


def video_info(capture, path, fps_override):
    """(fps, frame count or None) of an opened capture; UserError when the rate is unknown."""
    fps = fps_override or capture.get(cv2.CAP_PROP_FPS)
    if not fps or not math.isfinite(fps) or fps <= 0:
        raise UserError(f'{path}: the video does not state its frame rate; give --fps')
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    return fps, (count if count > 0 else None)


def image_message(msgs, frame_bgr, header, encoding):
    """A rosbags sensor_msgs/Image of an OpenCV BGR frame."""
    pixels = frame_bgr if encoding == 'bgr8' else cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
    height, width = pixels.shape[:2]
    return msgs['Image'](header=header, height=height, width=width, encoding=encoding,
                         is_bigendian=0, step=width * 3,
                         data=np.ascontiguousarray(pixels).reshape(-1))


def compressed_message(msgs, frame_bgr, header, quality):
    """A rosbags sensor_msgs/CompressedImage (jpeg) of an OpenCV BGR frame."""
    ok, jpeg = cv2.imencode('.jpg', frame_bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise UserError('OpenCV could not encode a frame as jpeg')
    return msgs['CompressedImage'](header=header, format='jpeg', data=jpeg.reshape(-1))


def convert(args):
    """Write the bag; returns the number of frames written."""
    capture = cv2.VideoCapture(str(args.video))
    if not args.video.is_file() or not capture.isOpened():
        raise UserError(f'{args.video}: not a readable video file')
    fps, count = video_info(capture, args.video, args.fps)
    if args.max_frames is not None:
        count = min(count, args.max_frames) if count else args.max_frames
    msgtype = 'sensor_msgs/msg/CompressedImage' if args.compressed else 'sensor_msgs/msg/Image'
    topic = args.topic or ('/camera/image_raw/compressed' if args.compressed else '/camera/image_raw')
    store = bag_io.typestore()
    msgs = {name: store.types[f'sensor_msgs/msg/{name}'] for name in ('Image', 'CompressedImage')}
    header_type, time_type = store.types['std_msgs/msg/Header'], store.types['builtin_interfaces/msg/Time']
    start_ns = round((time.time() if args.start_time is None else args.start_time) * 1e9)
    written = 0
    writer = bag_io.open_writer(args.out_bag, args.storage)
    try:
        connection = bag_io.add_topic(writer, topic, msgtype)
        with tqdm(total=count, unit='frame', desc=f'{args.video.name} -> {args.out_bag.name}') as bar:
            while args.max_frames is None or written < args.max_frames:
                ok, frame = capture.read()
                if not ok:
                    break
                stamp_ns = start_ns + round(written * 1e9 / fps)
                header = header_type(stamp=time_type(sec=stamp_ns // 1_000_000_000,
                                                     nanosec=stamp_ns % 1_000_000_000),
                                     frame_id=args.frame_id)
                msg = (compressed_message(msgs, frame, header, args.jpeg_quality) if args.compressed
                       else image_message(msgs, frame, header, args.encoding))
                writer.write(connection, stamp_ns, store.serialize_cdr(msg, msgtype))
                written += 1
                bar.update()
    finally:
        writer.close()
        capture.release()
    if written == 0:
        raise UserError(f'{args.video}: no frame could be decoded (bag {args.out_bag} is empty)')
    print(f'{PROG}: wrote {written} frames at {fps:g} fps to {args.out_bag} ({topic}, {msgtype})')
    return written


def main(argv=None):
    """Entry point."""
    args = parse_args(argv)
    with user_errors(PROG):
        convert(args)


if __name__ == '__main__':
    main()
