"""Inception-ResNet-v2 (WebVision's network) and VGG-19-BN (Animal-10N's): sizes against the published counts,
output shapes on small inputs, and the one-line refusal of inputs too small for them."""
import pytest
import torch
from torchvision.models import vgg19_bn

from noisyrobust.errors import UserError
from noisyrobust.models import VGG19BN, InceptionResNetV2


def count(net):
    return sum(p.numel() for p in net.parameters())


def test_inception_resnet_v2_has_the_reference_size():
    with torch.device("meta"):  # shapes only: no memory, no initialization time
        net = InceptionResNetV2(in_channels=3, num_classes=1000, image_size=299)
    assert count(net) == 55_843_464  # the ImageNet model's parameter count, as timm and Cadene's port give it


def test_inception_resnet_v2_maps_a_small_batch_to_class_scores():
    torch.manual_seed(0)
    net = InceptionResNetV2(in_channels=3, num_classes=50, image_size=75, repeats=(1, 1, 1)).eval()
    with torch.no_grad():
        out = net(torch.randn(2, 3, 75, 75))
    assert out.shape == (2, 50) and torch.isfinite(out).all()
    with pytest.raises(UserError, match="at least 75x75 pixels, the data has 64x64: raise data.crop"):
        InceptionResNetV2(in_channels=3, num_classes=50, image_size=64)


def test_vgg19_bn_is_torchvisions_with_a_head_for_the_classes():
    with torch.device("meta"):
        ours, theirs = VGG19BN(in_channels=3, num_classes=10, image_size=64), vgg19_bn(num_classes=10)
    assert count(ours) == count(theirs) == 143_678_248 - 990 * 4096 - 990  # torchvision's 1000-class count, 10 outputs
    with torch.device("meta"):  # 139M parameters: shapes propagate without initializing or computing them
        net = VGG19BN(in_channels=1, num_classes=10, image_size=32).eval()
        assert net(torch.empty(2, 1, 32, 32)).shape == (2, 10)
    with pytest.raises(UserError, match="at least 32x32, the data has 28x28"):
        VGG19BN(in_channels=3, num_classes=10, image_size=28)
