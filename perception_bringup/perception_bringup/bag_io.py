"""Rosbag2 reading and writing with `rosbags`, for every message type the workspace installs.

Messages stay serialized (CDR) end to end: tools hand raw bytes to rclpy's publishers and
`deserialize_message`, so no field is ever copied between rosbags and rclpy objects.
"""
import functools
import importlib
from pathlib import Path

from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
from rosbags.interfaces import Nodetype
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from rosbags.rosbag2.errors import ReaderError, WriterError
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from perception_bringup.cli import UserError

STORAGES = {'sqlite3': StoragePlugin.SQLITE3, 'mcap': StoragePlugin.MCAP}
# Definitions of the distribution the workspace runs (same as jazzy for every core message).
BASE_STORE = Stores.ROS2_KILTED


@functools.lru_cache(maxsize=1)
def typestore():
    """The base ROS 2 typestore plus our interface packages, registered from their installed .msg."""
    store = get_typestore(BASE_STORE)
    for msgtype in ('perception_msgs/msg/TrackedObjectArray', 'perception_msgs/msg/InstanceMaskArray',
                    'vision_msgs/msg/Detection2DArray'):
        register_type(store, msgtype)
    return store


def register_type(store, msgtype):
    """Register `msgtype` ('pkg/msg/Name') and the types it uses from the installed share/ folders."""
    if msgtype in store.fielddefs:
        return
    package, _, name = msgtype.split('/')
    try:
        path = Path(get_package_share_directory(package)) / 'msg' / f'{name}.msg'
    except PackageNotFoundError:
        raise UserError(f'message type {msgtype}: package {package!r} is not installed '
                        '(source scripts/env.sh after building the workspace)') from None
    if not path.is_file():
        raise UserError(f'message type {msgtype}: no definition at {path}')
    types = get_types_from_msg(path.read_text(), msgtype)
    store.register(types)
    for _, fields in types.values():
        for used in _named_types(fields):
            register_type(store, used)


def _named_types(fields):
    """Names of the message types referenced by rosbags field definitions."""
    for _, (kind, spec) in fields:
        if kind == Nodetype.NAME:
            yield spec
        elif kind in (Nodetype.ARRAY, Nodetype.SEQUENCE) and spec[0][0] == Nodetype.NAME:
            yield spec[0][1]


def open_writer(path, storage='sqlite3'):
    """An opened rosbag2 Writer at `path` (a new directory); close it (or use `with`) when done."""
    try:
        writer = Writer(path, version=Writer.VERSION_LATEST, storage_plugin=STORAGES[storage])
        writer.open()
    except WriterError as exc:
        raise UserError(f'cannot create bag {path}: {exc}') from None
    return writer


def add_topic(writer, topic, msgtype):
    """Add a connection for `topic` of `msgtype` to an open writer, registering the type if needed."""
    store = typestore()
    register_type(store, msgtype)
    return writer.add_connection(topic, msgtype, typestore=store)


def open_reader(path):
    """An opened rosbag2 Reader (sqlite3 or MCAP); a clear UserError when it is not a bag."""
    try:
        reader = Reader(path)
        reader.open()
    except FileNotFoundError:
        raise UserError(f'bag {path} does not exist') from None
    except ReaderError as exc:
        raise UserError(f'{path} is not a readable rosbag2 (directory with metadata.yaml, '
                        f'.db3 or .mcap): {exc}') from None
    return reader


def read_messages(reader, connections=None):
    """``reader.messages(connections)``; a file that breaks off mid-way (a truncated copy, a
    recording cut by a crash or power loss) ends it with a UserError naming the bag and how
    many messages could be read, not with the storage library's traceback."""
    messages = reader.messages(connections) if connections is not None else reader.messages()
    count = 0
    while True:
        try:
            item = next(messages)
        except StopIteration:
            return
        except Exception as exc:  # sqlite, MCAP and decompression libraries each raise their own
            raise UserError(f'{reader.path}: unreadable after {count} messages, the file is '
                            f'truncated or corrupt ({type(exc).__name__}: {exc})') from None
        count += 1
        yield item


def connections_for(reader, topics=None):
    """The reader's connections on `topics` (all when None); UserError naming any missing topic."""
    if not topics:
        return list(reader.connections)
    missing = sorted(set(topics) - {c.topic for c in reader.connections})
    if missing:
        available = ', '.join(sorted({c.topic for c in reader.connections})) or 'none'
        raise UserError(f'bag {reader.path} has no topic {", ".join(missing)} (topics: {available})')
    return [c for c in reader.connections if c.topic in topics]


def message_class(msgtype):
    """The rclpy message class of 'pkg/msg/Name' (what `ros2 topic` resolves the same way)."""
    package, kind, name = msgtype.split('/')
    try:
        return getattr(importlib.import_module(f'{package}.{kind}'), name)
    except (ImportError, AttributeError):
        raise UserError(f'message type {msgtype} is not importable in Python '
                        '(source scripts/env.sh after building the workspace)') from None


def has_header(msgtype):
    """Whether the message's first field is a std_msgs/Header (so its stamp leads the CDR)."""
    store = typestore()
    register_type(store, msgtype)
    fields = store.fielddefs[msgtype][1]
    return bool(fields) and fields[0][1] == (Nodetype.NAME, 'std_msgs/msg/Header')
