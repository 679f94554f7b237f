"""ImageNet ResNets (torchvision's architecture: 7x7 stem, max-pool), started from ImageNet weights read
from the local torchvision cache or a given file, with a new final layer for the dataset's classes.

Clothing1M's common protocol fine-tunes an ImageNet-pretrained ResNet-50; RHO-LOSS's irreducible-loss
model there is a ResNet-18. Nothing is downloaded unless ``download`` is set.
"""
import glob
import os
from pathlib import Path
from typing import Optional

import torch
from torch import nn
from torchvision.models import resnet

from noisyrobust.data.download import one_line
from noisyrobust.errors import UserError
from noisyrobust.models.compile import compilable

# torchvision's file names (ImageNet-1k weights); the original V1 weights, which the papers fine-tuned, first
WEIGHT_FILES = {"resnet18": ["resnet18-f37072fd.pth"], "resnet50": ["resnet50-0676ba61.pth", "resnet50-11ad3fa6.pth"]}
WEIGHT_ENUMS = {"resnet18": "ResNet18_Weights", "resnet50": "ResNet50_Weights"}


def hub_checkpoints() -> Path:
    """Where torchvision keeps downloaded weights: ``$TORCH_HOME/hub/checkpoints`` (~/.cache/torch/...)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def find_weights(arch: str, weights_path=None) -> Path:
    """The ImageNet weights file of ``arch``: ``weights_path`` if given, else torchvision's file in its cache
    (any ``<arch>-*.pth`` there, the V1 file first); a UserError saying where to put it if there is none."""
    if weights_path is not None:
        path = Path(weights_path).expanduser()
        if not path.is_file():
            raise UserError(f"model.weights_path={weights_path} does not exist")
        return path
    cache = hub_checkpoints()
    known = [cache / name for name in WEIGHT_FILES[arch] if (cache / name).is_file()]
    others = sorted(Path(p) for p in glob.glob(str(cache / f"{arch}-*.pth")))
    if known or others:
        return (known or others)[0]
    url = f"https://download.pytorch.org/models/{WEIGHT_FILES[arch][0]}"
    raise UserError(f"no ImageNet weights for {arch}: put torchvision's {WEIGHT_FILES[arch][0]} ({url}) in {cache}, "
                    f"or set model.weights_path=FILE, model.download=true to fetch it, or model.pretrained=false "
                    "to train from scratch")


def _download(arch: str) -> Path:
    """Fetch torchvision's V1 weights of ``arch`` into its cache."""
    weights = getattr(resnet, WEIGHT_ENUMS[arch]).IMAGENET1K_V1
    try:
        torch.hub.load_state_dict_from_url(weights.url, progress=False, check_hash=True)
    except Exception as error:  # noqa: BLE001 - no network, bad hash, ...: the user's to fix
        raise UserError(f"downloading the ImageNet weights of {arch} from {weights.url} failed: {one_line(error)}; "
                        f"put the file in {hub_checkpoints()} or set model.weights_path=FILE") from error
    return hub_checkpoints() / os.path.basename(weights.url)


def _load(net: resnet.ResNet, arch: str, path: Path) -> None:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001
        raise UserError(f"cannot read ImageNet weights {path}: {one_line(error)}") from error
    state = state.get("state_dict", state) if isinstance(state, dict) else state
    try:
        net.load_state_dict(state)
    except Exception as error:  # noqa: BLE001 - missing / unexpected keys, shape mismatch
        raise UserError(f"{path} does not hold {arch}'s ImageNet weights: {one_line(error)}") from error


class _ImageNetResNet(resnet.ResNet):
    arch = ""
    renewable = (("fc",), ("layer4",), ("layer3",), ("layer2",))  # PES's renewal, from the output back

    @staticmethod
    def init_module(m: nn.Module) -> None:
        """torchvision's initialization of a fresh module (convolutions: He normal, fan-out)."""
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def __init__(self, block, layers, *, in_channels: int, num_classes: int, image_size: int, pretrained: bool,
                 weights_path: Optional[str], download: bool) -> None:
        super().__init__(block, layers)  # 1000 ImageNet classes, so that the weights load as they are
        if pretrained:
            if in_channels != 3:
                raise UserError(f"ImageNet weights need 3 input channels, the data has {in_channels}; "
                                "set model.pretrained=false")
            _load(self, self.arch, _weights_file(self.arch, weights_path, download))
        elif in_channels != 3:
            self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.fc = nn.Linear(self.fc.in_features, num_classes)  # a fresh head for this dataset's classes


def _weights_file(arch: str, weights_path, download: bool) -> Path:
    if weights_path is None and download:
        try:
            return find_weights(arch)
        except UserError:
            return _download(arch)
    return find_weights(arch, weights_path)


@compilable
class ResNet50(_ImageNetResNet):
    """ResNet-50 (He et al. 2016), torchvision's ImageNet architecture; ``pretrained``: ImageNet weights
    from ``weights_path`` or the torchvision cache (``download``: fetch them there first if missing)."""

    arch = "resnet50"

    def __init__(self, *, in_channels: int, num_classes: int, image_size: int, pretrained: bool = True,
                 weights_path: Optional[str] = None, download: bool = False) -> None:
        super().__init__(resnet.Bottleneck, [3, 4, 6, 3], in_channels=in_channels, num_classes=num_classes,
                         image_size=image_size, pretrained=pretrained, weights_path=weights_path, download=download)


@compilable
class ResNet18(_ImageNetResNet):
    """ResNet-18 (He et al. 2016), torchvision's ImageNet architecture; weights as for ResNet50."""

    arch = "resnet18"

    def __init__(self, *, in_channels: int, num_classes: int, image_size: int, pretrained: bool = True,
                 weights_path: Optional[str] = None, download: bool = False) -> None:
        super().__init__(resnet.BasicBlock, [2, 2, 2, 2], in_channels=in_channels, num_classes=num_classes,
                         image_size=image_size, pretrained=pretrained, weights_path=weights_path, download=download)
