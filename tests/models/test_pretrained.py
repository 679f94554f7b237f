"""ImageNet ResNets: weights from torchvision's local cache or a given file, never the network in tests."""
import pytest
import torch
from torchvision.models import resnet18, resnet50

from noisyrobust.errors import UserError
from noisyrobust.models import ResNet18, ResNet50


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch" / "hub" / "checkpoints"


def fake_weights(path, net):
    """``net``'s state dict with every conv1 weight 0.5, where torchvision would have saved it."""
    state = net.state_dict()
    state["conv1.weight"].fill_(0.5)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return path


def test_weights_come_from_the_torchvision_cache_and_the_head_is_new(torch_home):
    fake_weights(torch_home / "resnet18-f37072fd.pth", resnet18())
    net = ResNet18(in_channels=3, num_classes=14, image_size=224)
    assert torch.all(net.conv1.weight == 0.5)
    assert net.fc.out_features == 14 and net(torch.randn(2, 3, 64, 64)).shape == (2, 14)


def test_resnet50_weights_from_a_given_file(tmp_path, torch_home):
    path = fake_weights(tmp_path / "mine.pth", resnet50())
    net = ResNet50(in_channels=3, num_classes=14, image_size=224, weights_path=str(path))
    assert torch.all(net.conv1.weight == 0.5) and net.fc.in_features == 2048 and net.fc.out_features == 14
    with pytest.raises(UserError, match="does not hold resnet18's ImageNet weights"):
        ResNet18(in_channels=3, num_classes=14, image_size=224, weights_path=str(path))


def test_without_weights_the_error_says_where_to_put_them(torch_home):
    with pytest.raises(UserError) as error:
        ResNet50(in_channels=3, num_classes=14, image_size=224)
    message = str(error.value)
    assert "put torchvision's resnet50-0676ba61.pth" in message and str(torch_home) in message
    assert "model.weights_path=FILE" in message and "model.pretrained=false" in message
    with pytest.raises(UserError, match="model.weights_path=/nowhere.pth does not exist"):
        ResNet50(in_channels=3, num_classes=14, image_size=224, weights_path="/nowhere.pth")


def test_from_scratch_needs_no_file_and_takes_any_channels(torch_home):
    net = ResNet18(in_channels=1, num_classes=3, image_size=32, pretrained=False)
    assert net(torch.randn(2, 1, 32, 32)).shape == (2, 3)
    with pytest.raises(UserError, match="ImageNet weights need 3 input channels"):
        ResNet18(in_channels=1, num_classes=3, image_size=32)


def test_a_failed_download_is_one_clear_error(torch_home, monkeypatch):
    def offline(url, **kw):
        raise OSError("network is unreachable")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(UserError, match=r"downloading the ImageNet weights of resnet18 from https://download."
                                        r"pytorch.org/models/resnet18-f37072fd.pth failed: OSError: network"):
        ResNet18(in_channels=3, num_classes=3, image_size=32, download=True)
