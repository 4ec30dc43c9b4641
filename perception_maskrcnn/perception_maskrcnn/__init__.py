"""perception_maskrcnn."""
