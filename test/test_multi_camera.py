"""Two cameras through one graph (perception-run-graph --cameras): two bags played at once, one
detector + tracker pair per camera in its namespace, each namespace's tracks from its own camera
only, and the one parameter file (plain node-name keys) applied to the namespaced nodes."""
import threading

from rcl_interfaces.srv import GetParameters
from rclpy.parameter import parameter_value_to_python

from perception_bringup import graph_spec
from perception_ros_glue.ros_testing import NodeProcess, close_test_node, make_test_node
from perception_bringup.testing import (FPS, START_S, people_bag, play_bags, running_graph,
                                        wait_until, write_people_config)

FRAMES = 8
# Distinct stamps per camera: the rear bag starts 100 s after the front one.
CAMERAS = {'front': ('/front/image_raw', 'front_camera', START_S),
           'rear': ('/rear/image_raw', 'rear_camera', START_S + 100.0)}


def stamp_ns(time_msg) -> int:
    return time_msg.sec * 10**9 + time_msg.nanosec


def bag_stamps(start_s):
    return [round(start_s * 1e9 + i * 1e9 / FPS) for i in range(FRAMES)]


def get_parameter(node, service_node, name, timeout=60.0):
    """One parameter of a running node, over its get_parameters service."""
    client = node.create_client(GetParameters, f'{service_node}/get_parameters')
    assert client.wait_for_service(timeout_sec=timeout), f'{service_node} has no parameter service'
    future = client.call_async(GetParameters.Request(names=[name]))
    assert wait_until(future.done, timeout), f'{service_node} did not answer'
    return parameter_value_to_python(future.result().values[0])


def test_two_cameras_from_two_bags_each_namespace_tracks_only_its_camera(tmp_path):
    bags = [people_bag(tmp_path, frames=FRAMES, name=f'{name}_bag',
                       extra=('--topic', topic, '--frame-id', frame_id, '--start-time', str(start)))
            for name, (topic, frame_id, start) in CAMERAS.items()]
    config = write_people_config(tmp_path / 'people.yaml', n_init=2, max_age=7)
    cameras = {name: topic for name, (topic, _, _) in CAMERAS.items()}
    with running_graph(config, '/camera/image_raw', cameras=cameras) as graph:
        node = graph.node
        assert node.count_subscribers('/camera/image_raw') == 0  # no default camera
        # The file's plain `tracker_node:` / `detector_node:` sections reached the namespaced nodes.
        for name in CAMERAS:
            assert get_parameter(node, f'/{name}/tracker_node', 'max_age') == 7
            assert get_parameter(node, f'/{name}/detector_node', 'backend') == 'hog'
        play_bags(graph, bags)
        tracks = graph.tracks_by_camera
        assert wait_until(lambda: all(len(tracks[n]) >= FRAMES for n in CAMERAS), 90), \
            {n: len(t) for n, t in tracks.items()}
    for name, (_, frame_id, start) in CAMERAS.items():
        messages = tracks[name]
        # Every frame of its own bag, nothing of the other camera's.
        assert sorted(stamp_ns(m.header.stamp) for m in messages) == bag_stamps(start), name
        assert {m.header.frame_id for m in messages} == {frame_id}, name
        assert any(m.objects for m in messages), f'{name}: the walkers are tracked'
    assert '[front/detector_node]' in graph.output and '[rear/tracker_node]' in graph.output


def test_rclpy_applies_plain_node_name_sections_to_namespaced_nodes_only_through_the_graph(tmp_path):
    """Why graph_spec.node_params_file exists: rclpy gives /front/tracker_node only the `/**`
    and `/front/tracker_node` sections of a file, not a plain `tracker_node:` one."""
    config = tmp_path / 'plain.yaml'
    config.write_text('/**:\n  ros__parameters:\n    nominal_dt: 0.1\n'
                      'tracker_node:\n  ros__parameters:\n    max_age: 7\n    embedder: none\n')
    spec = next(s for s in graph_spec.graph(cameras='front') if s.name == 'tracker_node')
    resolved = graph_spec.node_params_file(spec, config, tmp_path)
    procs = {ns: NodeProcess('tracker_node', ['-r', '__node:=tracker_node', '-r', f'__ns:=/{ns}',
                                              '--params-file', str(path)])
             for ns, path in (('raw', config), ('front', resolved))}
    context, node, executor = make_test_node('params_check')
    stop = threading.Event()  # get_parameter waits on a future: spin the node meanwhile
    thread = threading.Thread(target=lambda: [executor.spin_once(timeout_sec=0.05)
                                              for _ in iter(stop.is_set, True)], daemon=True)
    thread.start()
    try:
        raw = {n: get_parameter(node, '/raw/tracker_node', n) for n in ('max_age', 'nominal_dt')}
        front = {n: get_parameter(node, '/front/tracker_node', n) for n in ('max_age', 'nominal_dt')}
    finally:
        stop.set()
        thread.join()
        close_test_node(context, node, executor)
        for proc in procs.values():
            proc.close()
    assert raw == {'max_age': 30, 'nominal_dt': 0.1}  # only `/**` reached it: max_age default
    assert front == {'max_age': 7, 'nominal_dt': 0.1}
