"""perception_bringup."""
