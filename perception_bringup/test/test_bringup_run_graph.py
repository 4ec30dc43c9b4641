"""perception-run-graph: a node that dies takes the graph down with a non-zero exit and its name.

Each run goes through ``run_tool``: on a timeout the runner is killed with its nodes (they run in
sessions of their own, so killing the runner alone would leave them running)."""
from perception_bringup import graph_spec
from perception_bringup.testing import assert_no_traceback, run_tool


def test_missing_parameter_file_is_a_clear_error(tmp_path):
    result = run_tool('perception-run-graph', '--config', str(tmp_path / 'nope.yaml'))
    assert result.returncode == 2
    assert f'parameter file {tmp_path / "nope.yaml"} does not exist' in result.stderr
    assert_no_traceback(result.stderr)


def test_bad_cameras_and_a_file_without_a_section_for_the_nodes_are_clear_errors(tmp_path):
    result = run_tool('perception-run-graph', '--cameras', 'front:/f,1x:/a')
    assert result.returncode == 2 and "cameras: '1x:/a'" in result.stderr, result.stderr
    config = tmp_path / 'other.yaml'
    config.write_text('other_node:\n  ros__parameters:\n    a: 1\n')
    result = run_tool('perception-run-graph', '--config', str(config), '--cameras', 'front')
    assert result.returncode == 2 and 'no "detector_node: ros__parameters:" section' in result.stderr
    assert_no_traceback(result.stderr)


def test_a_node_that_dies_stops_the_graph_with_a_nonzero_exit(tmp_path):
    config = tmp_path / 'broken.yaml'
    text = graph_spec.DEFAULT_CONFIG.read_text()
    config.write_text(text.replace("weights: ''", f"weights: '{tmp_path / 'missing.pth'}'", 1)
                      .replace('backend: auto', 'backend: maskrcnn', 1))
    result = run_tool('perception-run-graph', '--config', str(config), '--device', 'cpu',
                      '--stop-timeout', '30', timeout=240)
    assert result.returncode == 1, result.stdout
    assert 'detector_node exited with code 1 while the graph was running' in result.stdout
    # The node's own reason reaches the user, prefixed with its name.
    assert '[detector_node]' in result.stdout and 'missing.pth' in result.stdout
