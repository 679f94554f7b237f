"""The memorization experiments (conf/experiment/{zhang,sparsity,susceptibility,slingshot,reinit}) compose and
hold their papers' settings, written out here rather than read back from the configs."""
import pytest
from hydra import compose, initialize_config_dir

from conftest import ROOT

# one test process composes the module's configs once (xdist would run its fixture in each)
pytestmark = pytest.mark.xdist_group("memorization_configs")

NAMES = [f"zhang/{m}_{k}" for m in ("mlp", "cnn") for k in ("labels", "inputs", "regularization")] + \
    ["zhang/cifar10_labels", "zhang/cifar10_inputs"] + \
    ["sparsity/digits_mlp", "susceptibility/digits_mlp", "reinit/digits_mlp", "slingshot/adam", "slingshot/sgd",
     "slingshot/adam_eps"]


@pytest.fixture(scope="module")
def composed():
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        return {n: compose("config", overrides=[f"experiment={n}"], return_hydra_config=True) for n in NAMES}


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("zhang/")])
def test_zhang_runs_sgd_with_momentum_and_no_explicit_regularization(composed, name):
    cfg = composed[name]
    assert cfg.optimizer._target_ == "torch.optim.SGD" and cfg.optimizer.momentum == 0.9
    assert cfg.optimizer.weight_decay == 0.0 and cfg.data.augment is False and cfg.model.dropout == 0.0
    assert cfg.scheduler._target_ == "torch.optim.lr_scheduler.ExponentialLR"
    sweep = dict(cfg.hydra.sweeper.params)
    if name.endswith("_labels"):
        assert cfg.callbacks.fit_stop.stop is True and sweep == {"noise.rate": "0.0,0.2,0.4,0.6,0.8,1.0"}
        assert cfg.noise._target_ == "noisyrobust.noise.uniform_noise"  # may keep the true class (the paper's)
    elif name.endswith("_inputs"):
        assert sweep == {"data.inputs": "shuffled_pixels,random_pixels,gaussian"} and cfg.noise.get("rate", 0) == 0
    else:  # Table 1: a fixed budget, not stopped at the fit
        assert cfg.callbacks.fit_stop.stop is False
    assert cfg.model._target_ == ("noisyrobust.models.MLP" if "mlp" in name else "noisyrobust.models.SmallAlexNet")
    if "cifar10" in name:  # the paper's AlexNet/MLP setting: lr 0.01 x0.95 per epoch, batch 128
        assert (cfg.optimizer.lr, cfg.scheduler.gamma, cfg.data.batch_size) == (0.01, 0.95, 128)


def test_sparsity_prunes_lenet_300_100_globally_to_98_percent(composed):
    cfg = composed["sparsity/digits_mlp"]
    assert list(cfg.model.hidden) == [300, 100] and cfg.prune.output_layer is False
    assert 1 - (1 - cfg.prune.fraction) ** cfg.prune.levels == pytest.approx(0.9862, abs=1e-4)
    assert cfg.noise.rate == 0.4 and cfg.prune.rewind == 0


def test_slingshot_trains_200_digits_with_the_monitor_and_its_controls(composed):
    for name in ("slingshot/adam", "slingshot/sgd", "slingshot/adam_eps"):
        cfg = composed[name]
        assert round(1437 * (1 - cfg.data.val_fraction)) == 200 and cfg.optimizer.weight_decay == 0.0
        assert "slingshot" in cfg.callbacks and cfg.callbacks.get("model_checkpoint") is None
    assert composed["slingshot/adam"].optimizer.eps == 1e-8 and composed["slingshot/adam_eps"].optimizer.eps == 1e-3
    assert composed["slingshot/sgd"].optimizer._target_ == "torch.optim.SGD"


def test_reinit_and_susceptibility_sweep_their_arms(composed):
    assert dict(composed["reinit/digits_mlp"].hydra.sweeper.params) == {
        "callbacks.reinit.method": "none,shrink_perturb,layerwise"}
    assert composed["reinit/digits_mlp"].callbacks.reinit.generation * 5 == composed["reinit/digits_mlp"].trainer.max_epochs
    assert "susceptibility" in composed["susceptibility/digits_mlp"].callbacks
