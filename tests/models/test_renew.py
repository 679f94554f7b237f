"""PES's renewal: every network of conf/model/ names its renewable layers from the output back (the final
classifier first); renewing re-initializes exactly those, in place, alike from the same seed (every DDP rank), and
a network that names none, or fewer than asked, is refused in one line."""
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from torch import nn

from conftest import ROOT
from noisyrobust.errors import UserError
from noisyrobust.models.renew import renew_layers, renewable_groups

MODELS = sorted(p.stem for p in (ROOT / "conf" / "model").glob("*.yaml"))


DATA = {"bag_of_tokens": ["data=python_names"], "token_transformer": ["data=python_names"],
        "inception_resnet_v2": ["data=cifar10", "model.image_size=299"]}  # what each network reads


def build(model: str, device: str = "cpu") -> nn.Module:
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=[f"model={model}", *DATA.get(model, ["data=cifar10"])])
    if "pretrained" in cfg.model:
        cfg.model.pretrained = False
    with torch.device(device):  # "meta": the structure without the cost of initializing ResNet-50's weights
        return instantiate(cfg.model)


@pytest.mark.parametrize("model", MODELS)
def test_every_network_names_its_renewable_groups_from_the_final_classifier_back(model):
    net = build(model, device="meta")
    groups = net.renewable
    final = net.get_submodule(groups[0][0])
    assert isinstance(final, nn.Linear) and final.out_features == 10  # the layer that gives the logits
    assert len(groups) >= 2 or model == "mlp"  # PES's k = 1 (a stage or block before it) where the net has one
    modules = [net.get_submodule(n) for group in groups for n in group]
    assert all(any(True for _ in m.parameters()) for m in modules)
    assert len({id(m) for m in modules}) == len(modules)


@pytest.mark.parametrize("model", ["mlp", "cnn_sce", "small_alexnet", "resnet32"])
def test_renewing_reinitializes_exactly_the_named_groups(model):
    torch.manual_seed(0)
    net = build(model)
    groups = net.renewable
    deepest = len(groups) - 1
    for m in net.modules():  # running statistics the renewal must restart
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.fill_(3.0)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    renewed = renew_layers(net, deepest, seed=7)
    names = {n for group in groups for n in group}
    inside = {k for k in before if any(k.startswith(n + ".") for n in names)}
    after = net.state_dict()
    for key, value in before.items():
        if key in inside and key.endswith("weight") and value.dim() > 1:
            assert not torch.equal(after[key], value), key
        elif key.endswith("running_mean") and key in inside:
            assert torch.equal(after[key], torch.zeros_like(value)), key
        elif key not in inside:
            assert torch.equal(after[key], value), key
    assert {id(p) for p in renewed} == {id(p) for n in names for p in net.get_submodule(n).parameters()}


def test_the_same_seed_renews_alike_and_in_place():
    a, b = build("resnet32"), build("resnet32")  # (the pre-activation tail BN renews with the last stage)
    assert build("preact_resnet18", device="meta").renewable[1] == ("stages.3", "head.0")
    b.load_state_dict(a.state_dict())
    weight = a.get_submodule("stages.2")[0].conv1.weight
    renew_layers(a, 1, seed=3)
    renew_layers(b, 1, seed=3)
    assert a.get_submodule("stages.2")[0].conv1.weight is weight  # the same parameter: optimizers and DDP stay bound
    for (k, v), w in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(v, w), k


def test_a_network_without_renewable_layers_or_too_few_is_refused_in_one_line():
    with pytest.raises(UserError) as e:
        renewable_groups(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)), 0)
    assert "Sequential names no layers to renew" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(UserError) as e:
        renewable_groups(build("mlp"), 2)
    assert str(e.value).startswith("method.refine_depths holds 2, but model MLP can renew depths 0 to 1 only")
