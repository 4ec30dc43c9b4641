"""perception_ros_glue: what the detector and tracker nodes share, and nothing detector- or
tracker-specific: image messages <-> numpy, ``Detections`` <-> vision_msgs, node parameters,
main loop, frame timing and queue, drawing, MOTChallenge rows, ROS parameter files."""
