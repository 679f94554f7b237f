"""The experiments of the real-noise benchmarks beyond CIFAR-N and Clothing1M (conf/experiment/webvision,
food101n, animal10n): each composes into its paper's dataset, network and schedule, written out here, trains the
whole noisy set (no validation split, so no best-checkpoint monitor), and has its published number beside it."""
import re

import pytest
from hydra import compose, initialize_config_dir

import noisyrobust  # noqa: F401 - resolvers
from conftest import ROOT
from noisyrobust.published import published

# one test process composes the module's configs once (xdist would run its fixture in each)
pytestmark = pytest.mark.xdist_group("benchmark_experiments")

EXPECTED = {  # name -> (data, network, method, lr, epochs, milestones, gamma, batch)
    "webvision/dividemix": ("webvision", "InceptionResNetV2", "DivideMix", 0.01, 80, [40], 0.1, 32),
    "webvision/elr_plus": ("webvision", "InceptionResNetV2", "ELRPlus", 0.02, 100, [50], 0.1, 32),
    "webvision/disc": ("webvision", "InceptionResNetV2", "DISC", 0.2, 100, [50, 80], 0.1, 32),
    "food101n/ce": ("food101n", "ResNet50", "Standard", 0.002, 30, [10, 20], 0.1, 32),
    "food101n/disc": ("food101n", "ResNet50", "DISC", 0.01, 30, [10, 20], 0.1, 32),
    "animal10n/ce": ("animal10n", "VGG19BN", "Standard", 0.1, 100, [50, 75], 0.2, 128),
    "animal10n/coteaching": ("animal10n", "VGG19BN", "CoTeaching", 0.1, 100, [50, 75], 0.2, 128),
}
FOUND = sorted(f"{p.parent.name}/{p.stem}" for d in ("webvision", "food101n", "animal10n")
               for p in (ROOT / "conf" / "experiment" / d).glob("*.yaml"))


@pytest.fixture(scope="module")
def composed():
    """Every experiment composed once, inside one Hydra context."""
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        return {name: compose("config", overrides=[f"experiment={name}"]) for name in EXPECTED}


def test_every_benchmark_experiment_is_checked_here():
    assert FOUND == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_experiment_holds_its_protocol_and_published_number(composed, name):
    cfg = composed[name]
    data, network, method, lr, epochs, milestones, gamma, batch = EXPECTED[name]
    assert cfg.data.name == data and cfg.model._target_.endswith(f".{network}")
    assert cfg.method._target_.endswith(f".{method}")
    assert cfg.noise._target_ == "noisyrobust.noise.human_noise" and cfg.data.val_fraction == 0.0
    assert cfg.callbacks.model_checkpoint is None  # nothing to select on: the last epoch is reported
    assert (cfg.optimizer.lr, cfg.trainer.max_epochs, list(cfg.scheduler.milestones), cfg.scheduler.gamma,
            cfg.data.batch_size) == (lr, epochs, milestones, gamma, batch)
    if data == "webvision":
        assert cfg.data.num_classes == 50 and cfg.data.crop == 227 and cfg.optimizer.weight_decay == 5e-4
    comment = (ROOT / "conf" / "experiment" / f"{name}.yaml").read_text().splitlines()[1]
    number = published(name.split("/")[1], data, {"_target_": cfg.noise._target_, "label": None})
    assert number is not None and number.split()[0] in comment, (number, comment)
    assert re.search(r"\d\d\.\d", comment)


def test_dividemix_and_elr_plus_take_their_references_webvision_values(composed):
    dm, elr = composed["webvision/dividemix"].method, composed["webvision/elr_plus"].method
    assert (dm.lambda_u, dm.alpha, dm.p_threshold, dm.temperature, dm.warmup_epochs, dm.warmup_penalty) == \
        (0, 0.5, 0.5, 0.5, 1, False)
    assert (elr.beta, elr.lam, elr.alpha, elr.ema_alpha, elr.ema_update, elr.ema_step) == \
        (0.7, 3.0, 1.0, 0.997, False, 40000)


def test_disc_takes_its_authors_commands_and_both_views_weak_from_files(composed):
    for name, (warmup, momentum) in {"webvision/disc": (15, 0.99), "food101n/disc": (5, 0.99)}.items():
        cfg = composed[name]
        assert (cfg.method.warmup_epochs, cfg.method.momentum, cfg.method.sigma) == (warmup, momentum, 0.3)
        assert cfg.optimizer.momentum == 0.0 and cfg.optimizer.weight_decay == 5e-4
        assert list(cfg.stages.views.kinds) == ["weak", "weak"]  # image files give no strong view
