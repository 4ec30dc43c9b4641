"""The node graph (perception-run-graph) with its options: simulated time from a played bag's
/clock, and a camera topic other than the default with the nodes' default QoS. Each test starts
its own graph."""
from rclpy.qos import ReliabilityPolicy

from perception_bringup import video_to_bag
from perception_bringup.testing import (FPS, START_S, finish_player, people_bag, play_bag, resume,
                                        running_graph, start_player, write_people_config)
from perception_ros_glue.ros_testing import wait_until

FRAMES = 6
BAG_STAMPS = [round(START_S * 1e9 + i * 1e9 / FPS) for i in range(FRAMES)]
NODES = {'detector_node', 'tracker_node'}


def stamp_ns(time_msg) -> int:
    return time_msg.sec * 10**9 + time_msg.nanosec


def test_sim_time_nodes_follow_the_played_clock_and_tracks_keep_the_bag_stamps(tmp_path):
    bag = people_bag(tmp_path, frames=FRAMES)
    config = write_people_config(tmp_path / 'people.yaml')
    with running_graph(config, '/camera/image_raw', '--use-sim-time') as graph:
        node, tracks = graph.node, graph.tracks
        # With use_sim_time a node's clock is driven by a /clock subscription of its own (and
        # only then): both nodes must have one before anything plays.
        assert wait_until(lambda: NODES <= {i.node_name for i in
                                            node.get_subscriptions_info_by_topic('/clock')}, 60), \
            node.get_subscriptions_info_by_topic('/clock')
        play_bag(graph, bag, '--clock')
        assert wait_until(lambda: len(tracks) >= FRAMES, 90), len(tracks)
        # What the nodes compute from their own clock: the stamp of their /diagnostics (sent
        # every second on a steady timer). The bag's time is 1000 s after the epoch, far from
        # the wall clock; after the playback a node's time stays at the last /clock tick it got.
        # A node on wall time (use_sim_time lost) stamps now, one that never got /clock 0.
        stamps = graph.diagnostic_stamps
        assert wait_until(lambda: all(stamps.get(f'/{n}', [0])[-1] in BAG_STAMPS for n in NODES),
                          30), {n: stamps.get(f'/{n}', [])[-3:] for n in NODES}
    for name in NODES:
        # Every stamp is sim time: 0 before the first tick, then bag time, never the wall clock.
        assert all(s == 0 or s in BAG_STAMPS for s in stamps[f'/{name}']), stamps[f'/{name}']
    # /clock carried the bag's time, in order (our /clock reader may have matched the player
    # only after its first tick) ...
    ticks = [stamp_ns(c.clock) for c in graph.clocks]
    assert ticks and ticks == sorted(ticks) and set(ticks) <= set(BAG_STAMPS), ticks
    assert ticks[-1] == BAG_STAMPS[-1], ticks
    # ... and every frame came out of both nodes with its bag stamp.
    assert sorted(stamp_ns(m.header.stamp) for m in tracks) == BAG_STAMPS


def test_non_default_camera_topic_with_the_default_sensor_data_qos(tmp_path):
    """A camera driver publishes best effort; the nodes keep their default (sensor-data) input
    QoS. Best effort may lose a frame, so the bag is played in a loop until frames come
    through; every tracks message must be of a bag frame."""
    topic = '/front/image_color'
    video = people_bag(tmp_path, frames=FRAMES, name='people').with_suffix('.avi')
    bag = tmp_path / 'front_bag'
    video_to_bag.main([str(video), str(bag), '--topic', topic, '--start-time', str(START_S)])
    config = write_people_config(tmp_path / 'people.yaml', reliable=False)
    with running_graph(config, topic) as graph:
        node, tracks = graph.node, graph.tracks
        # Both nodes listen on the camera topic given, none on the default one, best effort.
        assert node.count_subscribers('/camera/image_raw') == 0
        readers = node.get_subscriptions_info_by_topic(topic)
        assert {r.node_name for r in readers} >= NODES
        assert {r.qos_profile.reliability for r in readers if r.node_name in NODES} == {
            ReliabilityPolicy.BEST_EFFORT}
        player = start_player(bag, '--qos', 'sensor_data', '--loop', '--rate', '0.5', '--quiet',
                              '--wait-for-subscribers', '60', '--min-subscribers', '2')
        try:
            resume(player)
            walked = lambda: len({stamp_ns(m.header.stamp) for m in tracks if m.objects}) >= 3  # noqa: E731
            assert wait_until(walked, 120), len(tracks)
        finally:
            player.terminate()
            finish_player(player, timeout=30)
    assert player.returncode == 0
    assert {stamp_ns(m.header.stamp) for m in tracks} <= set(BAG_STAMPS)
