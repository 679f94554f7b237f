"""Zhang et al.'s small AlexNet at the image sizes of the digits, MNIST and CIFAR-10."""
import pytest
import torch
from torch import nn

from noisyrobust.models import SmallAlexNet


@pytest.mark.parametrize("channels_in,size,pooled", [(1, 8, 2), (1, 28, 7), (3, 32, 8)])
def test_logits_for_each_image_size_and_the_paper_layer_widths(channels_in, size, pooled):
    net = SmallAlexNet(in_channels=channels_in, num_classes=10, image_size=size)
    assert net(torch.randn(3, channels_in, size, size)).shape == (3, 10)
    linear = [m for m in net.modules() if isinstance(m, nn.Linear)]
    # two padded 5x5 convs keep the size, each 3x3/2 pool (padding 1) takes ceil(s / 2)
    assert [(m.in_features, m.out_features) for m in linear] == [(64 * pooled * pooled, 384), (384, 192), (192, 10)]
    assert sum(isinstance(m, nn.LocalResponseNorm) for m in net.modules()) == 2


def test_dropout_is_an_explicit_switch():
    assert not any(isinstance(m, nn.Dropout) for m in SmallAlexNet(in_channels=1, num_classes=10, image_size=8).modules())
    net = SmallAlexNet(in_channels=1, num_classes=10, image_size=8, dropout=0.5)
    assert [m.p for m in net.modules() if isinstance(m, nn.Dropout)] == [0.5, 0.5]
