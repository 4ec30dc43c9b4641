"""The node graph (perception-run-graph) with its options: simulated time from a played bag's
/clock, and a camera topic other than the default. Each test starts its own graph."""
from perception_bringup import video_to_bag
from perception_bringup.testing import (FPS, START_S, people_bag, play_bag, running_graph,
                                        write_people_config)
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
        play_bag(bag, '--clock')
        assert wait_until(lambda: len(tracks) >= FRAMES, 90), len(tracks)
    # /clock carried the bag's time (1000 s after the epoch, far from the wall clock), in order
    # (our /clock reader may have matched the player only after its first tick) ...
    ticks = [stamp_ns(c.clock) for c in graph.clocks]
    assert ticks and ticks == sorted(ticks) and set(ticks) <= set(BAG_STAMPS), ticks
    assert ticks[-1] == BAG_STAMPS[-1], ticks
    # ... and every frame came out of both nodes with its bag stamp.
    assert sorted(stamp_ns(m.header.stamp) for m in tracks) == BAG_STAMPS


def test_non_default_camera_topic_through_the_graph(tmp_path):
    topic = '/front/image_color'
    video = people_bag(tmp_path, frames=FRAMES, name='people').with_suffix('.avi')
    bag = tmp_path / 'front_bag'
    video_to_bag.main([str(video), str(bag), '--topic', topic, '--start-time', str(START_S)])
    with running_graph(write_people_config(tmp_path / 'people.yaml'), topic) as graph:
        node, tracks = graph.node, graph.tracks
        # Both nodes listen on the camera topic given, none on the default one.
        assert node.count_subscribers('/camera/image_raw') == 0
        play_bag(bag)
        assert wait_until(lambda: len(tracks) >= FRAMES, 90), len(tracks)
    assert sorted(stamp_ns(m.header.stamp) for m in tracks) == BAG_STAMPS
    assert any(m.objects for m in tracks), 'the walkers on the camera topic are tracked'
