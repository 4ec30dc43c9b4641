"""The DeepSORT appearance descriptor: a small wide residual network with a cosine-softmax head.

Architecture of Wojke & Bewley, "Deep Cosine Metric Learning for Person Re-identification"
(WACV 2018), Table 1: two 3x3 convolutions, max pooling, six residual blocks (32, 32, 64, 64,
128, 128 channels), a dense layer to 128 dimensions, batch normalisation and L2 normalisation.
Input is a 128x64 (height x width) RGB crop. ``width`` scales every layer's channels (32 is the
paper's): a narrower network at a smaller input embeds a frame's crops in a few milliseconds on a CPU.
"""

import torch
import torch.nn.functional as F
from torch import nn


class ResidualBlock(nn.Module):
    """Pre-activation wide-resnet block (BN-ELU-conv-BN-ELU-dropout-conv) with optional downsampling."""

    def __init__(self, in_channels, out_channels, stride=1, first=False, dropout=0.4):
        super().__init__()
        # The paper's first block follows an activation already, so it skips the pre-activation.
        self.pre = nn.Identity() if first else nn.Sequential(nn.BatchNorm2d(in_channels), nn.ELU(inplace=True))
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.mid = nn.Sequential(nn.BatchNorm2d(out_channels), nn.ELU(inplace=True), nn.Dropout(dropout))
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.shortcut = (
            nn.Identity()
            if stride == 1 and in_channels == out_channels
            else nn.Conv2d(in_channels, out_channels, 1, stride, bias=False)
        )

    def forward(self, x):
        """Return x + F(x)."""
        out = self.pre(x)
        out = self.conv2(self.mid(self.conv1(out)))
        return self.shortcut(x) + out


class ReidNet(nn.Module):
    """Descriptor network: (B, 3, 128, 64) normalised RGB -> (B, feature_dim) unit vectors."""

    def __init__(self, feature_dim=128, input_size=(128, 64), dropout=0.4, width=32):
        super().__init__()
        self.input_size = tuple(input_size)
        w = int(width)
        self.stem = nn.Sequential(
            nn.Conv2d(3, w, 3, 1, 1, bias=False),
            nn.BatchNorm2d(w),
            nn.ELU(inplace=True),
            nn.Conv2d(w, w, 3, 1, 1, bias=False),
            nn.BatchNorm2d(w),
            nn.ELU(inplace=True),
            nn.MaxPool2d(3, 2, 1),
        )
        self.blocks = nn.Sequential(
            ResidualBlock(w, w, 1, first=True, dropout=dropout),
            ResidualBlock(w, w, 1, dropout=dropout),
            ResidualBlock(w, 2 * w, 2, dropout=dropout),
            ResidualBlock(2 * w, 2 * w, 1, dropout=dropout),
            ResidualBlock(2 * w, 4 * w, 2, dropout=dropout),
            ResidualBlock(4 * w, 4 * w, 1, dropout=dropout),
        )
        flat = 4 * w * (self.input_size[0] // 8) * (self.input_size[1] // 8)
        self.head = nn.Sequential(
            nn.BatchNorm2d(4 * w),
            nn.ELU(inplace=True),
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(flat, feature_dim, bias=False),
            nn.BatchNorm1d(feature_dim),
            nn.ELU(inplace=True),
            # The reference implementation normalises the dense output once more before L2.
            nn.BatchNorm1d(feature_dim),
        )

    def forward(self, x):
        """Return L2-normalised features."""
        return F.normalize(self.head(self.blocks(self.stem(x))), dim=1)


class CosineSoftmaxHead(nn.Module):
    """Cosine-softmax classifier: logits = kappa * cos(feature, class direction), kappa learned."""

    def __init__(self, feature_dim, num_classes):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(num_classes, feature_dim) * 0.01)
        # softplus(raw) is the scale kappa; the paper learns it freely, starting near 1 is too flat.
        self.raw_scale = nn.Parameter(torch.tensor(10.0))

    def forward(self, features):
        """Return (B, num_classes) logits for L2-normalised features."""
        return F.softplus(self.raw_scale) * features @ F.normalize(self.weight, dim=1).t()


class ReidTrainingModel(nn.Module):
    """Descriptor network plus classifier head, as trained; only ``net`` is used at inference."""

    def __init__(self, num_classes, feature_dim=128, input_size=(128, 64), width=32):
        super().__init__()
        self.net = ReidNet(feature_dim, input_size, width=width)
        self.classifier = CosineSoftmaxHead(feature_dim, num_classes)

    def forward(self, x):
        """Return (features, logits)."""
        features = self.net(x)
        return features, self.classifier(features)
