import pytest
import torch

from noisyrobust.models import MLP


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("size", [28, 8])
def test_mlp_output_shape(size: int) -> None:
    model = MLP(in_channels=1, num_classes=10, image_size=size)
    assert model(torch.rand(4, 1, size, size)).shape == (4, 10)


def test_mlp_784_256_10_parameter_count() -> None:
    model = MLP(in_channels=1, num_classes=10, image_size=28)
    assert n_params(model) == 784 * 256 + 256 + 256 * 10 + 10 == 203_530


def test_mlp_several_hidden_layers_parameter_count() -> None:
    model = MLP(in_channels=3, num_classes=5, image_size=8, hidden=(32, 16))
    d = 3 * 8 * 8
    assert n_params(model) == (d * 32 + 32) + (32 * 16 + 16) + (16 * 5 + 5)


def test_mlp_without_hidden_layers_is_linear() -> None:
    model = MLP(in_channels=1, num_classes=3, image_size=2, hidden=())
    x = torch.rand(5, 1, 2, 2)
    lin = model.net[-1]
    torch.testing.assert_close(model(x), x.flatten(1) @ lin.weight.T + lin.bias)


def test_mlp_dropout_only_in_training() -> None:
    torch.manual_seed(0)
    model = MLP(in_channels=1, num_classes=10, image_size=8, hidden=(64,), dropout=0.5)
    x = torch.rand(8, 1, 8, 8)
    model.train()
    assert not torch.equal(model(x), model(x))
    model.eval()
    assert torch.equal(model(x), model(x))
