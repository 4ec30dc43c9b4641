"""A reduced Mask R-CNN from torchvision parts, for CPU experiments and the test suite.

Same design as the paper's model (ResNet + FPN, RPN, RoIAlign box and mask heads) with a smaller
backbone, fewer FPN channels and slimmer heads, so a few minutes of CPU training learn something.
Checkpoints record these settings under ``config['lite']`` and load through the ``maskrcnn``
backend like any other checkpoint.
"""
from __future__ import annotations

import torch
import torchvision
from torchvision.models.detection import MaskRCNN
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor

ARCH = 'maskrcnn_lite'
DEFAULT_LITE = {'backbone': 'resnet18', 'fpn_channels': 64, 'box_head_dim': 256, 'mask_head_layers': [64, 64]}


def build_lite(num_classes: int, lite: dict, **model_options) -> torch.nn.Module:
    """Untrained reduced Mask R-CNN; ``lite`` holds backbone name, FPN channels and head sizes."""
    body = torchvision.models.get_model(lite['backbone'], weights=None)
    # ResNet stage widths: the last stage has body.inplanes channels, each earlier one half.
    in_channels = [body.inplanes // 8, body.inplanes // 4, body.inplanes // 2, body.inplanes]
    channels = int(lite['fpn_channels'])
    backbone = BackboneWithFPN(body, {'layer1': '0', 'layer2': '1', 'layer3': '2', 'layer4': '3'},
                               in_channels, channels)
    pooled = 7 * 7 * channels  # box RoIAlign output is 7x7 per FPN channel
    layers = [int(c) for c in lite['mask_head_layers']]
    return MaskRCNN(backbone, num_classes=None,
                    box_head=TwoMLPHead(pooled, lite['box_head_dim']),
                    box_predictor=FastRCNNPredictor(lite['box_head_dim'], num_classes),
                    mask_head=MaskRCNNHeads(channels, layers, 1),
                    mask_predictor=MaskRCNNPredictor(layers[-1], layers[-1], num_classes),
                    **model_options)
