"""Fully connected classifier (the MNIST net of JoCoR and Co-teaching+: 784-256-10)."""

from collections.abc import Sequence

from torch import Tensor, nn

from noisyrobust.models.compile import compilable


@compilable
class MLP(nn.Module):
    """Flatten -> (Linear -> ReLU [-> Dropout]) per hidden width -> Linear to logits."""

    def __init__(
        self,
        *,
        in_channels: int,
        num_classes: int,
        image_size: int,
        hidden: Sequence[int] = (256,),
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_channels * image_size * image_size
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU(inplace=True)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))  # a module, so eval() turns it off
            width = h
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)
        # PES's renewal (models.renew), from the output back: each linear layer
        self.renewable = tuple((f"net.{i}",) for i in reversed(range(len(layers))) if isinstance(layers[i], nn.Linear))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)
