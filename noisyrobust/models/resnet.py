"""CIFAR-style ResNets (3x3 stem, no max-pool): ResNet-32/44 (He et al. 2016a, §4.2), ResNet-18/34 and
pre-activation ResNet-18 (He et al. 2016b). One BasicBlock class serves both activation orders."""

from collections.abc import Sequence

from torch import Tensor, nn

from noisyrobust.models.compile import compilable


def _conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)  # BatchNorm supplies the shift


class BasicBlock(nn.Module):
    """Two 3x3 convs plus a shortcut; a 1x1 projection (option B) where the shape changes.

    post-activation (original): relu(bn(conv(relu(bn(conv(x))))) + shortcut(x))
    pre-activation: conv(relu(bn(conv(relu(bn(x)))))) + shortcut, where a projection shortcut reads the
    pre-activated input (He et al. 2016b) and an identity one reads x itself.
    """

    def __init__(self, cin: int, cout: int, stride: int = 1, preact: bool = False) -> None:
        super().__init__()
        self.preact = preact
        self.conv1 = _conv3x3(cin, cout, stride)
        self.conv2 = _conv3x3(cout, cout)
        self.bn1 = nn.BatchNorm2d(cin if preact else cout)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut: nn.Module | None = None
        if stride != 1 or cin != cout:
            proj = nn.Conv2d(cin, cout, 1, stride=stride, bias=False)
            # Pre-activation projections read an already-normalized input, so they get no BatchNorm.
            self.shortcut = proj if preact else nn.Sequential(proj, nn.BatchNorm2d(cout))

    def forward(self, x: Tensor) -> Tensor:
        if self.preact:
            out = self.relu(self.bn1(x))
            skip = x if self.shortcut is None else self.shortcut(out)
            out = self.conv1(out)
            return self.conv2(self.relu(self.bn2(out))) + skip
        skip = x if self.shortcut is None else self.shortcut(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + skip)


class _ResNet(nn.Module):
    """Stem 3x3 conv -> stages of BasicBlocks (stride 2 from stage 2 on) -> global pool -> linear."""

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        widths: Sequence[int],
        depths: Sequence[int],
        preact: bool,
    ) -> None:
        super().__init__()
        stem: list[nn.Module] = [_conv3x3(in_channels, widths[0])]
        if not preact:  # pre-activation blocks normalize their own input
            stem += [nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True)]
        self.stem = nn.Sequential(*stem)
        stages, cin = [], widths[0]
        for i, (width, depth) in enumerate(zip(widths, depths, strict=True)):
            blocks = [BasicBlock(cin, width, 1 if i == 0 else 2, preact)]
            blocks += [BasicBlock(width, width, 1, preact) for _ in range(depth - 1)]
            stages.append(nn.Sequential(*blocks))
            cin = width
        self.stages = nn.Sequential(*stages)
        # Pre-activation leaves the last block's sum un-normalized: one final BN-ReLU before pooling.
        tail: list[nn.Module] = [nn.BatchNorm2d(cin), nn.ReLU(inplace=True)] if preact else []
        pool = [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.head = nn.Sequential(*tail, *pool, nn.Linear(cin, num_classes))
        for m in self.modules():
            self.init_module(m)
        # PES's renewal, from the output back (models.renew): the final linear layer, then whole stages (with
        # the pre-activation net's final BatchNorm after the last one)
        last_stage = (f"stages.{len(stages) - 1}", *(["head.0"] if preact else []))
        self.renewable = ((f"head.{len(self.head) - 1}",), last_stage,
                          *((f"stages.{i}",) for i in range(len(stages) - 2, 0, -1)))

    @staticmethod
    def init_module(m: nn.Module) -> None:
        """The constructor's initialization of a fresh module (convolutions: He normal, fan-out)."""
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.stages(self.stem(x)))


# image_size is accepted so every model config can pass the same three values; global pooling makes
# these nets size-agnostic.


@compilable
class PreActResNet18(_ResNet):
    def __init__(self, *, in_channels: int, num_classes: int, image_size: int) -> None:
        super().__init__(in_channels, num_classes, (64, 128, 256, 512), (2, 2, 2, 2), preact=True)


@compilable
class CifarResNet18(_ResNet):
    """ResNet-18, CIFAR variant (PES's and T-Revision's CIFAR network; models.ResNet18 is torchvision's ImageNet one)."""

    def __init__(self, *, in_channels: int, num_classes: int, image_size: int) -> None:
        super().__init__(in_channels, num_classes, (64, 128, 256, 512), (2, 2, 2, 2), preact=False)


@compilable
class ResNet34(_ResNet):
    def __init__(self, *, in_channels: int, num_classes: int, image_size: int) -> None:
        super().__init__(in_channels, num_classes, (64, 128, 256, 512), (3, 4, 6, 3), preact=False)


@compilable
class ResNet32(_ResNet):
    """6n+2 layers with n = 5."""

    def __init__(self, *, in_channels: int, num_classes: int, image_size: int) -> None:
        super().__init__(in_channels, num_classes, (16, 32, 64), (5, 5, 5), preact=False)


@compilable
class ResNet44(_ResNet):
    """6n+2 layers with n = 7."""

    def __init__(self, *, in_channels: int, num_classes: int, image_size: int) -> None:
        super().__init__(in_channels, num_classes, (16, 32, 64), (7, 7, 7), preact=False)
