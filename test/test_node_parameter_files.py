"""A node started with a broken parameter file: one line naming the file and the problem, exit
code 1, no traceback (rcl rejects the file before any node exists)."""
import pytest

from perception_ros_glue.ros_testing import NodeProcess

START_S = 90.0  # process start-up imports torch: slow on a busy 2-core machine


@pytest.mark.parametrize('node', ['detector_node', 'tracker_node'])
@pytest.mark.parametrize('problem, text, message', [
    ('not YAML', 'detector_node:\n  ros__parameters:\n    backend: [hog\n', 'Error parsing'),
    ('missing', None, 'Error opening YAML file'),
])
def test_broken_parameter_file_is_one_line_and_exit_1(tmp_path, node, problem, text, message):
    path = tmp_path / 'params.yaml'
    if text is not None:
        path.write_text(text)
    with NodeProcess(node, ['--params-file', str(path)]) as proc:
        assert proc.wait(START_S) == 1, proc.output()
        output = proc.output()
    assert f"[{node}]: cannot start: Couldn't parse params file: '--params-file {path}'" in output
    assert message in output and 'Traceback' not in output, output
    assert '.c:' not in output.split('cannot start:')[1], 'no C source locations'


def test_a_value_of_the_wrong_type_names_the_parameter(tmp_path):
    path = tmp_path / 'params.yaml'
    path.write_text('detector_node:\n  ros__parameters:\n    backend: hog\n'
                    '    score_threshold: "high"\n')
    with NodeProcess('detector_node', ['--params-file', str(path)]) as proc:
        assert proc.wait(START_S) == 1, proc.output()
        output = proc.output()
    assert "cannot start: parameter 'score_threshold' must be a number, got 'high'" in output
    assert 'Traceback' not in output, output
