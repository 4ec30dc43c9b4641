"""The nodes' parameters from a ROS parameter file, for tools that run the libraries directly.

The file is parsed by perception_ros_glue.param_file (node sections and `/**` wildcards, as the
nodes see them; TrackerConfig.from_yaml uses the same parser) and completed with the defaults
the detector node declares, so an offline run and the node graph configure the detector and
tracker identically from one YAML.
"""
from perception_bringup.cli import UserError
from perception_deepsort.config import TrackerConfig
from perception_maskrcnn.detector_node import PARAMETERS as DETECTOR_PARAMETERS
from perception_maskrcnn.frame_detector import FrameDetector, resolve
from perception_ros_glue.param_file import read_node_parameters


def node_parameters(config, node_name):
    """{name: value} the parameter file gives `node_name` (its section plus `/**`)."""
    if not config.is_file():
        raise UserError(f'parameter file {config} does not exist')
    try:
        return read_node_parameters(config, node_name)
    except ValueError as exc:
        raise UserError(f'not a ROS parameter file for {node_name}: {exc}') from None


def detector_parameters(config, overrides=None):
    """The detector node's parameters: declared defaults, then the file, then non-empty overrides."""
    values = {spec.name: spec.default for spec in DETECTOR_PARAMETERS}
    values.update(node_parameters(config, 'detector_node'))
    values.update({k: v for k, v in (overrides or {}).items() if v})
    return values


def _from_detector_parameters(action, config, overrides):
    """``action(parameters)`` of the file and overrides; a bad configuration as a UserError."""
    try:
        return action(detector_parameters(config, overrides))
    except (RuntimeError, ValueError, OSError) as exc:
        raise UserError(f'cannot create the detector from {config}: {exc}') from None


def frame_detector(config, overrides=None):
    """The FrameDetector the node would build from the same file and overrides."""
    return _from_detector_parameters(FrameDetector, config, overrides)


def weights_file(config, overrides=None):
    """The weights file the detector would load (None: HOG or a release name), without loading it."""
    return _from_detector_parameters(lambda params: resolve(params)[1], config, overrides)


def tracker_config(config, overrides=None):
    """TrackerConfig of the file's tracker_node section (node-only keys such as QoS ignored)."""
    values = node_parameters(config, 'tracker_node')
    values.update({k: v for k, v in (overrides or {}).items() if v})
    fields = TrackerConfig.field_docs()
    try:
        return TrackerConfig.from_dict({k: v for k, v in values.items() if k in fields})
    except ValueError as exc:
        raise UserError(f'{config}: {exc}') from None
