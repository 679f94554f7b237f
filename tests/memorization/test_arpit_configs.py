"""conf/experiment/arpit/* compose, sweep what Arpit et al. 2017 vary, and keep the data fixed across seeds."""
import pytest
from hydra import compose, initialize_config_dir

from conftest import ROOT

# one test process composes the module's configs once (xdist would run its fixture in each)
pytestmark = pytest.mark.xdist_group("arpit_configs")

NAMES = ("arpit/first_epoch", "arpit/fit_time", "arpit/dropout")


@pytest.fixture(scope="module")
def composed():
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        return {n: compose("config", overrides=[f"experiment={n}", "seed=7"], return_hydra_config=True)
                for n in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_every_seed_trains_an_sgd_mlp_on_the_same_data_in_its_own_order(composed, name):
    cfg = composed[name]
    assert cfg.model._target_ == "noisyrobust.models.MLP" and cfg.optimizer._target_ == "torch.optim.SGD"
    assert cfg.noise.seed == 0 and cfg.data.shuffle_seed == 7 and cfg.data.val_fraction == 0.0
    assert cfg.optimizer.weight_decay == 0.0 and cfg.data.augment is False
    assert "training_set_fit" in cfg.callbacks and cfg.callbacks.get("model_checkpoint") is None


def test_the_sweeps(composed):
    params = {n: dict(composed[n].hydra.sweeper.params) for n in NAMES}
    assert params["arpit/first_epoch"] == {"noise.rate": "0.0,1.0", "data.inputs": "none,gaussian",
                                           "seed": "range(0,20)"}
    assert composed["arpit/first_epoch"].trainer.max_epochs == 1
    assert list(composed["arpit/first_epoch"].callbacks.training_set_fit.epochs) == [0]
    assert params["arpit/fit_time"] == {"noise.rate": "0.0,0.25,0.5,0.75,1.0", "model.hidden": "[32],[128],[512]"}
    assert composed["arpit/fit_time"].callbacks.fit_stop.stop is True
    assert params["arpit/dropout"] == {"noise.rate": "0.0,0.4,0.8", "model.dropout": "0.0,0.2,0.4,0.6"}
    assert composed["arpit/dropout"].callbacks.fit_stop.stop is False
