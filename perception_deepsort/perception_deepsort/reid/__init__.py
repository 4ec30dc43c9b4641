"""Appearance descriptors (re-ID) for DeepSORT at run time: networks, embedders, checkpoints.

Importing this package does not import torch; only the network embedders and tools do.
"""

from perception_deepsort.reid.checkpoints import ReidWeightsError
from perception_deepsort.reid.embedders import DEFAULT_EMBEDDER, EMBEDDER_NAMES, Embedder, create_embedder

__all__ = ['DEFAULT_EMBEDDER', 'EMBEDDER_NAMES', 'Embedder', 'ReidWeightsError', 'create_embedder']
