import pytest
import torch
from torch import nn

from noisyrobust.models import CifarResNet18, PreActResNet18, ResNet32, ResNet34, ResNet44
from noisyrobust.models.resnet import BasicBlock


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def conv(cin: int, cout: int, k: int) -> int:
    return cin * cout * k * k


def bn(c: int) -> int:
    return 2 * c


def expected_params(widths, depths, in_ch: int, classes: int, preact: bool) -> int:
    """Parameters of a CIFAR ResNet from its layer sizes: bias-free convs, 1x1 projection shortcuts
    (with BatchNorm in the post-activation form), BatchNorm weight+bias, final linear."""
    # Stem: the post-activation form has a BN after it; the pre-activation one instead ends with a BN.
    total = conv(in_ch, widths[0], 3) + (0 if preact else bn(widths[0]))
    cin = widths[0]
    for w, d in zip(widths, depths):
        for b in range(d):
            c_in = cin if b == 0 else w
            body = conv(c_in, w, 3) + conv(w, w, 3)
            norms = bn(c_in) + bn(w) if preact else 2 * bn(w)
            proj = 0
            if c_in != w:
                proj = conv(c_in, w, 1) + (0 if preact else bn(w))
            total += body + norms + proj
        cin = w
    if preact:
        total += bn(cin)
    return total + cin * classes + classes


CASES = [
    (PreActResNet18, (64, 128, 256, 512), (2, 2, 2, 2), True),
    (CifarResNet18, (64, 128, 256, 512), (2, 2, 2, 2), False),
    (ResNet34, (64, 128, 256, 512), (3, 4, 6, 3), False),
    (ResNet32, (16, 32, 64), (5, 5, 5), False),
    (ResNet44, (16, 32, 64), (7, 7, 7), False),
]


@pytest.mark.parametrize(("cls", "widths", "depths", "preact"), CASES)
def test_resnet_output_shape_and_parameter_count(cls, widths, depths, preact) -> None:
    model = cls(in_channels=3, num_classes=10, image_size=32)
    assert model(torch.rand(2, 3, 32, 32)).shape == (2, 10)
    assert n_params(model) == expected_params(widths, depths, 3, 10, preact)


@pytest.mark.parametrize(("cls", "widths", "depths", "preact"), CASES)
def test_resnet_blocks_per_stage(cls, widths, depths, preact) -> None:
    model = cls(in_channels=3, num_classes=100, image_size=32)
    assert len(model.stages) == len(depths)
    for stage, width, depth in zip(model.stages, widths, depths):
        blocks = [m for m in stage if isinstance(m, BasicBlock)]
        assert len(blocks) == depth
        assert all(b.conv2.out_channels == width and b.preact == preact for b in blocks)


@pytest.mark.parametrize(
    ("cls", "depth"), [(PreActResNet18, 18), (CifarResNet18, 18), (ResNet34, 34), (ResNet32, 32), (ResNet44, 44)]
)
def test_resnet_weighted_depth_matches_name(cls, depth: int) -> None:
    # He et al. count 3x3 convs plus the final linear layer; 1x1 projection shortcuts are not counted.
    model = cls(in_channels=3, num_classes=10, image_size=32)
    convs3 = sum(1 for m in model.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3))
    linears = sum(1 for m in model.modules() if isinstance(m, nn.Linear))
    assert convs3 + linears == depth


def test_resnet34_matches_the_widely_quoted_cifar_total() -> None:
    assert n_params(ResNet34(in_channels=3, num_classes=10, image_size=32)) == 21_282_122


@pytest.mark.parametrize(("cls", "millions"), [(PreActResNet18, 11.17), (ResNet32, 0.46)])
def test_resnet_sizes_match_published_orders(cls, millions: float) -> None:
    # Widely quoted totals for 10 classes (ResNet-32's 0.46M is option-A; projections add ~3k).
    count = n_params(cls(in_channels=3, num_classes=10, image_size=32)) / 1e6
    assert count == pytest.approx(millions, abs=0.01)


def test_resnet_spatial_downsampling() -> None:
    # CIFAR variants keep 32x32 in the first stage (no stem max-pool), halve at each later stage.
    model = ResNet32(in_channels=3, num_classes=10, image_size=32).eval()
    x = model.stem(torch.rand(1, 3, 32, 32))
    sizes = []
    for stage in model.stages:
        x = stage(x)
        sizes.append(tuple(x.shape[1:]))
    assert sizes == [(16, 32, 32), (32, 16, 16), (64, 8, 8)]


def test_resnet_grayscale_input() -> None:
    model = ResNet32(in_channels=1, num_classes=10, image_size=28)
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 10)


@pytest.mark.parametrize("cls", [PreActResNet18, ResNet32])
def test_resnet_eval_output_independent_of_batch(cls) -> None:
    torch.manual_seed(0)
    model = cls(in_channels=3, num_classes=10, image_size=32)
    model.train()
    model(torch.rand(8, 3, 32, 32) * 2)  # move running stats away from their initial values
    model.eval()
    x = torch.rand(4, 3, 32, 32)
    together = model(x)
    alone = torch.cat([model(x[i : i + 1]) for i in range(4)])
    mixed = model(torch.cat([x[:2], torch.rand(3, 3, 32, 32) * 10]))[:2]
    torch.testing.assert_close(alone, together, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(mixed, together[:2], atol=1e-4, rtol=1e-4)


def test_preact_projection_shortcut_has_no_batchnorm() -> None:
    block = BasicBlock(16, 32, stride=2, preact=True)
    assert isinstance(block.shortcut, nn.Conv2d)
    post = BasicBlock(16, 32, stride=2, preact=False)
    assert any(isinstance(m, nn.BatchNorm2d) for m in post.shortcut.modules())


def test_cifar_resnet18_matches_the_widely_quoted_cifar_total() -> None:
    assert n_params(CifarResNet18(in_channels=3, num_classes=10, image_size=32)) == 11_173_962
