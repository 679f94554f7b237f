"""Zhang et al. 2017's small AlexNet (their Table 1 and appendix), sized for any image of at least 4x4."""
from torch import Tensor, nn

from noisyrobust.models.compile import compilable


@compilable
class SmallAlexNet(nn.Module):
    """Two blocks of (conv 5x5 -> ReLU -> max-pool 3x3 stride 2 -> local response norm), then FC 384 -> FC 192
    -> FC, each hidden FC with ReLU and optional dropout (an explicit regularizer: ``model.dropout``)."""

    def __init__(self, *, in_channels: int, num_classes: int, image_size: int, channels: int = 64,
                 dropout: float = 0.0) -> None:
        super().__init__()
        def block(cin: int) -> list:
            return [nn.Conv2d(cin, channels, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1),
                    nn.LocalResponseNorm(4, alpha=0.001 / 9.0, beta=0.75)]
        self.features = nn.Sequential(*block(in_channels), *block(channels), nn.Flatten())
        s = image_size
        for _ in range(2):
            s = (s + 2 - 3) // 2 + 1  # each pool: padding 1, kernel 3, stride 2
        def drop() -> list:
            return [nn.Dropout(dropout)] if dropout > 0 else []
        self.classifier = nn.Sequential(nn.Linear(channels * s * s, 384), nn.ReLU(), *drop(),
                                        nn.Linear(384, 192), nn.ReLU(), *drop(), nn.Linear(192, num_classes))
        # PES's renewal (models.renew), from the output back: each linear layer, then the second conv
        linear = [i for i, m in enumerate(self.classifier) if isinstance(m, nn.Linear)]
        self.renewable = (*((f"classifier.{i}",) for i in reversed(linear)), ("features.4",))

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))
