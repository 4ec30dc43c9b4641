"""Offline training kit: synthetic COCO data, Mask R-CNN training and COCO evaluation."""
