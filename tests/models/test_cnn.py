import pytest
import torch

from noisyrobust.errors import UserError
from noisyrobust.models import SCECNN, CoteachingCNN, JoCoRCNN, LeNet


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def conv_bn(cin: int, cout: int, k: int = 3) -> int:
    """Bias-free conv + BatchNorm (weight and bias)."""
    return cin * cout * k * k + 2 * cout


def linear(i: int, o: int) -> int:
    return i * o + o


@pytest.mark.parametrize(
    ("cls", "channels", "size"),
    [
        (CoteachingCNN, 1, 28),
        (CoteachingCNN, 3, 32),
        (JoCoRCNN, 3, 32),
        (SCECNN, 3, 32),
        (LeNet, 3, 32),
    ],
)
def test_cnn_output_shape(cls: type, channels: int, size: int) -> None:
    model = cls(in_channels=channels, num_classes=10, image_size=size)
    assert model(torch.rand(2, channels, size, size)).shape == (2, 10)


def test_coteaching_cnn_parameter_count() -> None:
    model = CoteachingCNN(in_channels=3, num_classes=10, image_size=32)
    expected = (
        conv_bn(3, 128) + conv_bn(128, 128) + conv_bn(128, 128)
        + conv_bn(128, 256) + conv_bn(256, 256) + conv_bn(256, 256)
        + conv_bn(256, 512) + conv_bn(512, 256) + conv_bn(256, 128)
        + linear(128, 10)
    )  # fmt: skip
    assert n_params(model) == expected


def test_jocor_cnn_parameter_count() -> None:
    model = JoCoRCNN(in_channels=3, num_classes=10, image_size=32)
    convs = (
        (3 * 64 * 9 + 2 * 64) + (64 * 64 * 9 + 2 * 64)  # 1,856 + 36,992
        + (64 * 128 * 9 + 2 * 128) + (128 * 128 * 9 + 2 * 128)  # 73,984 + 147,712
        + (128 * 196 * 9 + 2 * 196) + (196 * 16 * 9 + 2 * 16)  # 226,184 + 28,256
    )  # fmt: skip
    fc = 16 * 4 * 4 * 10 + 10  # 32 -> 16 -> 8 -> 4 after three pools: 256 inputs
    assert n_params(model) == convs + fc == 517_554


def test_jocor_cnn_linear_input_follows_image_size() -> None:
    model = JoCoRCNN(in_channels=3, num_classes=100, image_size=64)
    assert model.fc.in_features == 16 * 8 * 8
    assert model(torch.rand(2, 3, 64, 64)).shape == (2, 100)


def test_lenet_parameter_count() -> None:
    model = LeNet(in_channels=3, num_classes=10, image_size=32)
    # 32 -conv5-> 28 -pool-> 14 -conv5-> 10 -pool-> 5, so the first FC reads 16*5*5 = 400 values.
    expected = (
        (3 * 6 * 25 + 6)  # 456
        + (6 * 16 * 25 + 16)  # 2,416
        + (400 * 120 + 120)  # 48,120
        + (120 * 84 + 84)  # 10,164
        + (84 * 10 + 10)  # 850
    )
    assert n_params(model) == expected == 62_006


def test_lenet_at_28x28_grayscale() -> None:
    # 28 -> 24 -> 12 -> 8 -> 4: first FC reads 16*4*4 = 256 values.
    model = LeNet(in_channels=1, num_classes=10, image_size=28)
    assert model.net[7].in_features == 256
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 10)


def test_sce_cnn_parameter_count() -> None:
    model = SCECNN(in_channels=3, num_classes=10, image_size=32)
    convs = (
        conv_bn(3, 64) + conv_bn(64, 64) + conv_bn(64, 128) + conv_bn(128, 128)
        + conv_bn(128, 196) + conv_bn(196, 196)
    )  # fmt: skip
    head = 196 * 4 * 4 * 256 + 2 * 256 + linear(256, 10)  # bias-free FC256 + BatchNorm1d, then FC10
    assert n_params(model) == convs + head


def test_coteaching_cnn_dropout_off_in_eval() -> None:
    torch.manual_seed(0)
    model = CoteachingCNN(in_channels=1, num_classes=10, image_size=28, dropout=0.25)
    x = torch.rand(2, 1, 28, 28)
    model.train()
    assert not torch.allclose(model(x), model(x))
    model.eval()
    assert torch.equal(model(x), model(x))


def test_coteaching_cnn_train_mode_is_deterministic_without_dropout() -> None:
    # Control for the test above: the train-mode difference comes from dropout, not from BatchNorm.
    model = CoteachingCNN(in_channels=1, num_classes=10, image_size=28, dropout=0.0).train()
    x = torch.rand(2, 1, 28, 28)
    torch.testing.assert_close(model(x), model(x))


def test_coteaching_cnn_negative_slope_is_used() -> None:
    model = CoteachingCNN(in_channels=1, num_classes=10, image_size=28, negative_slope=0.2)
    slopes = {m.negative_slope for m in model.modules() if isinstance(m, torch.nn.LeakyReLU)}
    assert slopes == {0.2}


@pytest.mark.parametrize("size", [27, 16])
def test_coteaching_cnn_rejects_too_small_images(size: int) -> None:
    with pytest.raises(UserError, match="image_size >= 28"):
        CoteachingCNN(in_channels=1, num_classes=10, image_size=size)


def test_coteaching_cnn_smallest_size_works() -> None:
    # 28 -> 14 -> 7 -> three unpadded convs -> 1x1.
    model = CoteachingCNN(in_channels=1, num_classes=10, image_size=28).eval()
    assert model(torch.rand(1, 1, 28, 28)).shape == (1, 10)


@pytest.mark.parametrize(("cls", "size"), [(JoCoRCNN, 7), (SCECNN, 4), (LeNet, 15)])
def test_small_images_raise(cls: type, size: int) -> None:
    with pytest.raises(UserError, match="image_size"):
        cls(in_channels=3, num_classes=10, image_size=size)


@pytest.mark.parametrize("cls", [CoteachingCNN, JoCoRCNN, SCECNN])
def test_eval_output_independent_of_batch(cls: type) -> None:
    torch.manual_seed(0)
    model = cls(in_channels=3, num_classes=10, image_size=32)
    model.train()
    model(torch.rand(16, 3, 32, 32) * 2)  # move running stats away from their initial values
    model.eval()
    x = torch.rand(6, 3, 32, 32)
    together = model(x)
    alone = torch.cat([model(x[i : i + 1]) for i in range(6)])
    mixed = model(torch.cat([x[:3], torch.rand(5, 3, 32, 32) * 10]))[:3]
    torch.testing.assert_close(alone, together, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(mixed, together[:3], atol=1e-5, rtol=1e-4)
