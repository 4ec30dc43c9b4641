"""Command-line tools over the detector library."""
