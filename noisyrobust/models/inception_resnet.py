"""Inception-ResNet-v2 (Szegedy et al. 2017, "Inception-v4, Inception-ResNet and the Impact of Residual
Connections on Learning"), the network DivideMix and ELR+ train from scratch on WebVision.

The layout is the paper's Figures 9 and 15-18 with the filter counts of its reference implementation
(TF-slim): stem to 192 channels, Mixed-5b (320), 10 x Inception-ResNet-A (scaled by 0.17), Reduction-A
(1088), 20 x Inception-ResNet-B (0.10), Reduction-B (2080), 10 x Inception-ResNet-C (0.20; the last
without its ReLU), a 1x1 convolution to 1536, global average pooling and one linear layer. Inputs of
at least 75 x 75 pixels (299 in the paper; 227 in DivideMix's WebVision runs).
"""
from torch import nn
import torch

from noisyrobust.errors import UserError
from noisyrobust.models.compile import compilable

MIN_SIZE = 75  # the smallest input the valid-padding convolutions and poolings leave a 1x1 map of


def conv(c_in: int, c_out: int, kernel, stride: int = 1, padding=0) -> nn.Sequential:
    """Convolution without bias, BatchNorm (eps 1e-3, as TF-slim), ReLU."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=False),
                         nn.BatchNorm2d(c_out, eps=1e-3), nn.ReLU(inplace=True))


class Branches(nn.Module):
    """Parallel branches over one input, concatenated along the channels."""

    def __init__(self, *branches: nn.Module):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=1)


class Residual(nn.Module):
    """x + scale * up(branches(x)), then ReLU (Inception-ResNet-A/B/C): ``up`` a biased 1x1 convolution back to
    the input's channels."""

    def __init__(self, channels: int, branches: Branches, mixed: int, scale: float, relu: bool = True):
        super().__init__()
        self.branches, self.up = branches, nn.Conv2d(mixed, channels, 1)
        self.scale, self.relu = scale, relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.scale * self.up(self.branches(x))
        return torch.relu(x) if self.relu else x


def block_a(scale: float = 0.17) -> Residual:  # 35 x 35 x 320
    return Residual(320, Branches(conv(320, 32, 1),
                                  nn.Sequential(conv(320, 32, 1), conv(32, 32, 3, padding=1)),
                                  nn.Sequential(conv(320, 32, 1), conv(32, 48, 3, padding=1),
                                                conv(48, 64, 3, padding=1))),
                    128, scale)


def block_b(scale: float = 0.10) -> Residual:  # 17 x 17 x 1088
    return Residual(1088, Branches(conv(1088, 192, 1),
                                   nn.Sequential(conv(1088, 128, 1), conv(128, 160, (1, 7), padding=(0, 3)),
                                                 conv(160, 192, (7, 1), padding=(3, 0)))),
                    384, scale)


def block_c(scale: float = 0.20, relu: bool = True) -> Residual:  # 8 x 8 x 2080
    return Residual(2080, Branches(conv(2080, 192, 1),
                                   nn.Sequential(conv(2080, 192, 1), conv(192, 224, (1, 3), padding=(0, 1)),
                                                 conv(224, 256, (3, 1), padding=(1, 0)))),
                    448, scale, relu)


@compilable
class InceptionResNetV2(nn.Module):
    """Inception-ResNet-v2 for ``num_classes`` classes (see the module docstring); ``repeats`` the numbers of
    A, B and C blocks (the paper's 10, 20, 10)."""

    def __init__(self, *, in_channels: int, num_classes: int, image_size: int, repeats=(10, 20, 10)):
        super().__init__()
        if image_size < MIN_SIZE:
            raise UserError(f"Inception-ResNet-v2 needs images of at least {MIN_SIZE}x{MIN_SIZE} pixels, the data "
                            f"has {image_size}x{image_size}: raise data.crop (and data.resize)")
        n_a, n_b, n_c = repeats
        self.features = nn.Sequential(
            conv(in_channels, 32, 3, stride=2), conv(32, 32, 3), conv(32, 64, 3, padding=1), nn.MaxPool2d(3, 2),
            conv(64, 80, 1), conv(80, 192, 3), nn.MaxPool2d(3, 2),
            Branches(conv(192, 96, 1),  # Mixed-5b -> 320
                     nn.Sequential(conv(192, 48, 1), conv(48, 64, 5, padding=2)),
                     nn.Sequential(conv(192, 64, 1), conv(64, 96, 3, padding=1), conv(96, 96, 3, padding=1)),
                     nn.Sequential(nn.AvgPool2d(3, 1, 1, count_include_pad=False), conv(192, 64, 1))),
            *[block_a() for _ in range(n_a)],
            Branches(conv(320, 384, 3, stride=2),  # Reduction-A -> 1088
                     nn.Sequential(conv(320, 256, 1), conv(256, 256, 3, padding=1), conv(256, 384, 3, stride=2)),
                     nn.MaxPool2d(3, 2)),
            *[block_b() for _ in range(n_b)],
            Branches(nn.Sequential(conv(1088, 256, 1), conv(256, 384, 3, stride=2)),  # Reduction-B -> 2080
                     nn.Sequential(conv(1088, 256, 1), conv(256, 288, 3, stride=2)),
                     nn.Sequential(conv(1088, 256, 1), conv(256, 288, 3, padding=1), conv(288, 320, 3, stride=2)),
                     nn.MaxPool2d(3, 2)),
            *[block_c() for _ in range(n_c - 1)], block_c(scale=1.0, relu=False),
            conv(2080, 1536, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(1536, num_classes)
        last = len(self.features) - 3  # PES's renewal, from the output back: fc, the 1x1 conv, the last C block
        self.renewable = (("fc",), (f"features.{last}",), (f"features.{last - 1}",))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))
