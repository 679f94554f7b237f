"""Small CNNs of the reference papers, rebuilt from their descriptions.

Convolutions followed by BatchNorm have no bias: BatchNorm's shift makes it redundant.
"""

from torch import Tensor, nn

from noisyrobust.errors import UserError
from noisyrobust.models.compile import compilable


def _conv_bn(cin: int, cout: int, act: nn.Module, padding: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=padding, bias=False), nn.BatchNorm2d(cout), act]


def _require(size: int, need: int, net: str, why: str) -> None:
    if size < need:
        raise UserError(f"{net} needs image_size >= {need} ({why}), got image_size={size}; pick a model for this data")


@compilable
class CoteachingCNN(nn.Module):
    """The Co-teaching 9-conv CNN: 3x128 -> pool -> 3x256 -> pool -> 512,256,128 unpadded -> GAP."""

    # PES's renewal (models.renew), from the output back: the linear layer, then blocks of three conv + BN
    renewable = (("fc",), ("features.22", "features.23", "features.25", "features.26", "features.28", "features.29"),
                 ("features.11", "features.12", "features.14", "features.15", "features.17", "features.18"))

    def __init__(
        self,
        *,
        in_channels: int,
        num_classes: int,
        image_size: int,
        dropout: float = 0.25,
        negative_slope: float = 0.01,
    ) -> None:
        super().__init__()
        # Two pools take n to n//4; three unpadded 3x3 convs then remove 6 pixels and must leave >= 1,
        # so n//4 >= 7, i.e. n >= 28.
        _require(image_size, 28, "CoteachingCNN", "three unpadded 3x3 convs after two 2x2 pools")

        def act() -> nn.Module:
            return nn.LeakyReLU(negative_slope, inplace=True)

        # Dropout2d is a module (the reference calls the functional form, leaving it on at test time).
        self.features = nn.Sequential(
            *_conv_bn(in_channels, 128, act()), *_conv_bn(128, 128, act()), *_conv_bn(128, 128, act()),
            nn.MaxPool2d(2), nn.Dropout2d(dropout),
            *_conv_bn(128, 256, act()), *_conv_bn(256, 256, act()), *_conv_bn(256, 256, act()),
            nn.MaxPool2d(2), nn.Dropout2d(dropout),
            *_conv_bn(256, 512, act(), padding=0), *_conv_bn(512, 256, act(), padding=0),
            *_conv_bn(256, 128, act(), padding=0),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )  # fmt: skip
        self.fc = nn.Linear(128, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.features(x))


@compilable
class JoCoRCNN(nn.Module):
    """JoCoR's 7-layer CIFAR CNN: 64,64 -> pool -> 128,128 -> pool -> 196,16 -> pool -> Linear."""

    # PES's renewal, from the output back: the linear layer, then the pairs of conv + BN between pools
    renewable = (("fc",), ("features.14", "features.15", "features.17", "features.18"),
                 ("features.7", "features.8", "features.10", "features.11"))

    def __init__(self, *, in_channels: int, num_classes: int, image_size: int) -> None:
        super().__init__()
        _require(image_size, 8, "JoCoRCNN", "three 2x2 pools")
        relu = nn.ReLU
        self.features = nn.Sequential(
            *_conv_bn(in_channels, 64, relu()), *_conv_bn(64, 64, relu()), nn.MaxPool2d(2),
            *_conv_bn(64, 128, relu()), *_conv_bn(128, 128, relu()), nn.MaxPool2d(2),
            *_conv_bn(128, 196, relu()), *_conv_bn(196, 16, relu()), nn.MaxPool2d(2),
            nn.Flatten(),
        )  # fmt: skip
        s = image_size // 8  # padded convs keep the size; each pool floors it by 2
        self.fc = nn.Linear(16 * s * s, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.features(x))


@compilable
class LeNet(nn.Module):
    """Co-teaching+'s CIFAR-10 LeNet: conv6@5x5 -> pool -> conv16@5x5 -> pool -> FC120 -> FC84 -> FC."""

    renewable = (("net.11",), ("net.9",), ("net.7",), ("net.3",))  # PES's renewal, from the output back

    def __init__(self, *, in_channels: int, num_classes: int, image_size: int) -> None:
        super().__init__()
        s = ((image_size - 4) // 2 - 4) // 2  # two unpadded 5x5 convs, each followed by a 2x2 pool
        _require(image_size, 16, "LeNet", "two unpadded 5x5 convs each followed by a 2x2 pool")
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(16 * s * s, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, num_classes),
        )  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


@compilable
class SCECNN(nn.Module):
    """The SCE paper's 8-layer CIFAR-10 CNN: 64,64 / 128,128 / 196,196, a pool after each pair,
    then FC256 (BatchNorm, ReLU) -> FC."""

    # PES's renewal, from the output back: the last linear layer, FC256 + BN, then the pairs of conv + BN
    renewable = (("head.3",), ("head.0", "head.1"), ("features.14", "features.15", "features.17", "features.18"),
                 ("features.7", "features.8", "features.10", "features.11"))

    def __init__(self, *, in_channels: int, num_classes: int, image_size: int) -> None:
        super().__init__()
        _require(image_size, 8, "SCECNN", "three 2x2 pools")
        relu = nn.ReLU
        self.features = nn.Sequential(
            *_conv_bn(in_channels, 64, relu()), *_conv_bn(64, 64, relu()), nn.MaxPool2d(2),
            *_conv_bn(64, 128, relu()), *_conv_bn(128, 128, relu()), nn.MaxPool2d(2),
            *_conv_bn(128, 196, relu()), *_conv_bn(196, 196, relu()), nn.MaxPool2d(2),
            nn.Flatten(),
        )  # fmt: skip
        s = image_size // 8
        self.head = nn.Sequential(
            nn.Linear(196 * s * s, 256, bias=False), nn.BatchNorm1d(256), nn.ReLU(),
            nn.Linear(256, num_classes),
        )  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))
