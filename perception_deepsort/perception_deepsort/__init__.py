"""perception_deepsort."""
