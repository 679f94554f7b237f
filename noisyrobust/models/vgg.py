"""VGG-19 with BatchNorm (Simonyan & Zisserman 2015), torchvision's architecture: the network SELFIE, PLC and
DISC train from scratch on Animal-10N."""
from torch import nn
from torchvision.models import vgg

from noisyrobust.errors import UserError
from noisyrobust.models.compile import compilable


@compilable
class VGG19BN(vgg.VGG):
    """torchvision's ``vgg19_bn`` (configuration E: 16 convolutions with BatchNorm, five max-pools, an adaptive
    7x7 average pool, 4096-4096 fully connected layers with dropout), trained from scratch for
    ``num_classes`` classes on ``in_channels``-channel images of at least 32x32."""

    def __init__(self, *, in_channels: int, num_classes: int, image_size: int):
        if image_size < 32:
            raise UserError(f"VGG-19 halves its input five times: it needs images of at least 32x32, the data has "
                            f"{image_size}x{image_size}")
        super().__init__(vgg.make_layers(vgg.cfgs["E"], batch_norm=True), num_classes=num_classes)
        if in_channels != 3:
            self.features[0] = nn.Conv2d(in_channels, 64, kernel_size=3, padding=1)
        # PES's renewal, from the output back (models.renew): the three fully connected layers
        self.renewable = (("classifier.6",), ("classifier.3",), ("classifier.0",))
