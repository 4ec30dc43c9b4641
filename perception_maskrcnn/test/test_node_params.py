"""Detector node parameters: descriptions, YAML loading, numbers coerced, bad types named."""
import pytest

from perception_maskrcnn.detector_node import PARAMETERS
from perception_ros_glue.ros_testing import declared_parameters


def declared(tmp_path, node_name, text, specs):
    """Declare ``specs`` on a node whose parameter file holds ``text``."""
    path = tmp_path / 'params.yaml'
    path.write_text(text)
    return declared_parameters(node_name, path, specs)


def test_detector_parameters_load_from_yaml(tmp_path):
    values, descriptions = declared(tmp_path, 'detector_node', '''
detector_node:
  ros__parameters:
    backend: hog
    classes: [person, car]
    score_threshold: 1
    queue_size: 2
''', PARAMETERS)
    assert values['backend'] == 'hog' and values['classes'] == ['person', 'car']
    assert values['score_threshold'] == 1.0 and isinstance(values['score_threshold'], float)
    assert values['queue_size'] == 2 and values['device'] == 'auto' and values['input'] == 'raw'
    assert all(len(text) > 10 for text in descriptions.values())


def test_empty_class_list_means_all_classes(tmp_path):
    values, _ = declared(tmp_path, 'detector_node',
                         'detector_node:\n  ros__parameters:\n    classes: []\n', PARAMETERS)
    assert values['classes'] == []


def test_a_wrong_type_names_the_parameter(tmp_path):
    with pytest.raises(ValueError, match="'score_threshold' must be a number"):
        declared(tmp_path, 'detector_node',
                 'detector_node:\n  ros__parameters:\n    score_threshold: high\n', PARAMETERS)


def test_inference_threads_caps_opencv_and_torch_and_zero_leaves_the_default():
    import cv2
    import torch

    from perception_maskrcnn.frame_detector import limit_inference_threads

    before = cv2.getNumThreads(), torch.get_num_threads()
    try:
        limit_inference_threads(0)
        assert (cv2.getNumThreads(), torch.get_num_threads()) == before
        limit_inference_threads(1)
        assert (cv2.getNumThreads(), torch.get_num_threads()) == (1, 1)
    finally:  # process-wide state: later tests in this process must not inherit one thread
        cv2.setNumThreads(before[0])
        torch.set_num_threads(before[1])
