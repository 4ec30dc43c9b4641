"""ROS parameter and QoS helpers shared by the detector and tracker nodes."""
from __future__ import annotations

from dataclasses import dataclass

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.exceptions import ParameterUninitializedException
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data

QOS_CHOICES = ('sensor_data', 'reliable')


@dataclass(frozen=True)
class ParamSpec:
    """One node parameter: name, default, description; the type of an empty list; whether
    other types are accepted (for values a later check coerces, e.g. ``1`` for ``1.0``)."""

    name: str
    default: object
    description: str
    empty_list_type: Parameter.Type = Parameter.Type.STRING_ARRAY
    dynamic_typing: bool = False


def declare_parameters(node, specs) -> dict:
    """Declare every spec on ``node`` (overrides from YAML/CLI apply) and return name -> value."""
    for spec in specs:
        # Floats accept integers (YAML `1` for `1.0`): declared dynamic, checked below.
        is_float = isinstance(spec.default, float)
        descriptor = ParameterDescriptor(description=spec.description,
                                         dynamic_typing=spec.dynamic_typing or is_float)
        # An empty list has no element type for rclpy to infer; declare it typed, without value.
        default = spec.empty_list_type if spec.default == [] else spec.default
        node.declare_parameter(spec.name, default, descriptor)
    return parameter_values(node, specs)


def parameter_values(node, specs) -> dict:
    """name -> current value of declared ``specs`` (a managed node reads them again when it is
    configured: values set while unconfigured apply); floats checked as declare_parameters does."""
    values = {}
    for spec in specs:
        try:
            value = node.get_parameter(spec.name).value
        except ParameterUninitializedException:  # an empty list, declared typed without value
            value = None
        if value is None:
            value = list(spec.default)
        elif isinstance(spec.default, float) and not spec.dynamic_typing:
            value = _as_float(spec.name, value)
        values[spec.name] = value
    return values


def _as_float(name: str, value) -> float:
    """``value`` as a float when it is a number; otherwise a ValueError naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f'parameter {name!r} must be a number, got {value!r}')
    return float(value)


def check_choice(name: str, value: str, choices) -> str:
    """``value`` when it is one of ``choices``; otherwise a ValueError naming the parameter."""
    if value not in choices:
        raise ValueError(f'parameter {name!r} is {value!r}; expected one of {list(choices)}')
    return value


def input_qos(name: str) -> QoSProfile:
    """QoS for input subscriptions: 'sensor_data' (best effort, newest 5) or 'reliable'."""
    check_choice('qos', name, QOS_CHOICES)
    if name == 'sensor_data':
        return qos_profile_sensor_data
    return QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


# Outputs are reliable: best-effort and reliable subscribers can both receive them.
OUTPUT_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
