"""model=timm: timm's architectures for the data's classes and channels, weights only from a local file."""
import pytest
import timm
import torch
from conftest import FAST

from noisyrobust.errors import UserError
from noisyrobust.models import timm_model

SMALL = "test_resnet"  # timm's own tiny ResNet (0.5M parameters): any architecture goes the same way


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # a download attempt would fail, not fetch


def imagenet_weights(path, name=SMALL):
    """A file of timm weights as published: 1000 ImageNet classes, 3 input channels."""
    net = timm.create_model(name, pretrained=False)
    torch.save(net.state_dict(), path)
    return net.state_dict()


def test_random_weights_for_the_datas_classes_and_channels():
    net = timm_model(name=SMALL, in_channels=1, num_classes=10, image_size=8)
    assert net(torch.randn(4, 1, 8, 8)).shape == (4, 10)
    assert net(torch.randn(2, 1, 32, 32)).shape == (2, 10)


def test_weights_from_a_file_with_the_first_conv_adapted_and_a_new_head(tmp_path):
    saved = imagenet_weights(tmp_path / "weights.pth")
    torch.manual_seed(0)
    net = timm_model(name=SMALL, in_channels=1, num_classes=10, image_size=32, pretrained_file=str(tmp_path / "weights.pth"))
    state = net.state_dict()
    conv = f"{net.pretrained_cfg['first_conv']}.weight"
    head = f"{net.pretrained_cfg['classifier']}.weight"
    # one grey channel sees what the three colour channels saw together: their weights summed (timm's rule)
    torch.testing.assert_close(state[conv], saved[conv].sum(dim=1, keepdim=True))
    assert state[head].shape == (10, saved[head].shape[1])
    body = [k for k in saved if k not in (conv, head, head.replace("weight", "bias"))]
    assert body and all(torch.equal(state[k], saved[k]) for k in body)


def test_a_file_of_the_same_classes_loads_whole(tmp_path):
    saved = imagenet_weights(tmp_path / "weights.pth")
    net = timm_model(name=SMALL, in_channels=3, num_classes=1000, image_size=32, pretrained_file=str(tmp_path / "weights.pth"))
    assert all(torch.equal(v, saved[k]) for k, v in net.state_dict().items())


@pytest.mark.parametrize("kwargs, message", [
    ({"name": "test_resnett"}, "model.name=test_resnett is not a timm architecture; close: test_resnet"),
    ({"pretrained_file": "/nonexistent/w.pth"}, "model.pretrained_file=/nonexistent/w.pth does not exist"),
    ({"kwargs": {"depth": 3}}, "timm's test_resnet refuses model.kwargs={'depth': 3}"),
])
def test_bad_values_are_one_line(kwargs, message):
    with pytest.raises(UserError, match="^" + message.replace("(", r"\(").replace("[", r"\[").replace("{", r"\{")):
        timm_model(**{"name": SMALL, "in_channels": 3, "num_classes": 10, "image_size": 32, **kwargs})


def test_a_file_of_another_architecture_is_refused_not_loaded_in_part(tmp_path):
    imagenet_weights(tmp_path / "vit.pth", name="test_vit")
    with pytest.raises(UserError, match=r"vit.pth does not fit timm's test_resnet: \d+ of its tensors missing "
                                        r"\(e.g. .+\); \d+ it does not have"):
        timm_model(name=SMALL, in_channels=3, num_classes=10, image_size=32, pretrained_file=str(tmp_path / "vit.pth"))
    (tmp_path / "junk.pth").write_bytes(b"not weights")
    with pytest.raises(UserError, match="cannot read model.pretrained_file="):
        timm_model(name=SMALL, in_channels=3, num_classes=10, image_size=32, pretrained_file=str(tmp_path / "junk.pth"))


def test_trains_end_to_end_and_a_missing_file_is_refused_before_the_run(tmp_path, monkeypatch):
    from noisyrobust import train

    monkeypatch.chdir(tmp_path)
    run = train([*FAST, "model=timm", f"model.name={SMALL}", "noise=sym0.4", "diagnostics=none"])
    assert run.summary["test_acc_last"] > 0.15  # above chance (10 classes) after 2 epochs
    with pytest.raises(UserError, match="model.pretrained_file=missing.pth does not exist"):
        train([*FAST, "model=timm", "model.pretrained_file=missing.pth"])
    assert len(list((tmp_path / "logs" / "train" / "runs").iterdir())) == 1  # the refused one made no directory
