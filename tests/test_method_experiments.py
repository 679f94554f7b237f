"""The protocol experiments of GCE, loss correction, ELR/ELR+, DivideMix, SOP/SOP+, ProMix and DISC: every file composes
into the method, data and noise its name says, with the papers' values written out here."""
import re

import pytest
from hydra import compose, initialize_config_dir

import noisyrobust  # noqa: F401 - resolvers
from conftest import ROOT

METHODS = ("gce", "forward", "backward", "elr", "elr_plus", "dividemix", "sop", "sop_plus", "pes", "pes_semi", "promix",
           "disc", "cal", "trevision", "volminnet", "cores", "peer", "fdiv", "gls")
FILES = sorted(f"{p.parent.name}/{p.stem}" for m in METHODS for p in (ROOT / "conf" / "experiment" / m).glob("*.yaml"))


def compose_experiment(name, *more):
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        return compose("config", overrides=[f"experiment={name}", *more])


@pytest.mark.parametrize("name", FILES)
def test_experiment_composes_with_its_method_data_and_noise(name):
    cfg = compose_experiment(name)
    method, cell = name.split("/")
    classes = {"gce": "GCE", "forward": "LossCorrection", "backward": "LossCorrection", "elr": "ELR",
               "elr_plus": "ELRPlus", "dividemix": "DivideMix", "sop": "SOP", "sop_plus": "SOP", "pes": "PES",
               "pes_semi": "PESSemi", "promix": "ProMix", "disc": "DISC", "cal": "CAL", "trevision": "TRevision",
               "volminnet": "VolMinNet", "cores": "CORES", "peer": "PeerLoss", "fdiv": "FDivergence", "gls": "GLS"}
    assert cfg.method._target_.endswith(classes[method])
    assert cfg.data.name == cell.split("_")[0]
    if "_sym" in cell and method in ("dividemix", "elr", "elr_plus", "sop_plus", "pes_semi", "promix"):  # these papers redraw from all classes
        assert cfg.noise._target_.endswith("uniform_noise") and cfg.noise.rate == int(cell[-2:]) / 100
    if cell.startswith("cifar10n_"):
        assert cfg.noise.label == cell.split("_")[1]
    if method == "backward":
        assert cfg.method.correction == "backward"
    comment = (ROOT / "conf" / "experiment" / f"{name}.yaml").read_text().splitlines()[1]
    assert re.search(r"\d\d\.\d|not collected|number recorded|no number", comment), comment  # the published number, or why none


@pytest.mark.parametrize("name, expected", [
    ("dividemix/cifar10_sym20", {"lambda_u": 0, "warmup_epochs": 10}),
    ("dividemix/cifar10_sym50", {"lambda_u": 25, "warmup_epochs": 10}),
    ("dividemix/cifar10_asym40", {"lambda_u": 0, "warmup_penalty": True}),
    ("dividemix/cifar100_sym50", {"lambda_u": 150, "warmup_epochs": 30}),
    ("dividemix/clothing1m", {"lambda_u": 0, "alpha": 0.5}),
    ("dividemix/cifar10_sym90", {"lambda_u": 50, "p_threshold": 0.6, "loss_window": 5}),
    ("dividemix/cifar100_sym90", {"lambda_u": 150, "p_threshold": 0.6, "loss_window": 5, "warmup_epochs": 30}),
    ("pes/cifar10_sym50", {"warmup_epochs": 25, "refine_depths": [1, 0], "refine_epochs": [7, 5],
                           "refine_optimizer": {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-4}}),
    ("pes/cifar100_inst40", {"warmup_epochs": 30}),
    ("pes_semi/cifar10_inst40", {"warmup_epochs": 20, "lambda_u": 15, "refine_depths": [0], "refine_epochs": [5]}),
    ("pes_semi/cifar100_pair45", {"warmup_epochs": 35, "lambda_u": 50}),
    ("pes_semi/cifar10n_worse", {"warmup_epochs": 20, "lambda_u": 5}),
    ("pes_semi/cifar100n", {"warmup_epochs": 35, "lambda_u": 75}),
    ("elr/cifar10_asym40", {"beta": 0.9, "lam": 1.0}),
    ("elr/cifar100_sym20", {"beta": 0.9, "lam": 7.0}),
    ("elr_plus/cifar100_sym50", {"beta": 0.9, "lam": 7.0, "coef_step": 40000, "weighted_target": True}),
    ("sop_plus/cifar100_sym50", {"lr_u": 1.0, "lr_v": 10.0, "consistency": 0.9, "balance": 0.1}),
    ("sop_plus/cifar10_asym40", {"lr_u": 0.1, "lr_v": 100.0}),
    ("promix/cifar10_sym20", {"rho_start": 0.7, "tau": 0.99, "warmup_epochs": 10, "debias_output": 0.8}),
    ("promix/cifar100_sym50", {"rho_start": 0.5, "tau": 0.95, "warmup_epochs": 30, "debias_pl": 0.5}),
    ("promix/cifar10n_worse", {"rho_start": 0.5, "tau": 0.99, "warmup_epochs": 10}),
    ("disc/cifar10_sym50", {"warmup_epochs": 20, "momentum": 0.99, "sigma": 0.5, "lambda_h": 1.0}),
    ("disc/cifar10_asym40", {"momentum": 0.95}),
    ("disc/cifar10_inst40", {"warmup_epochs": 15}),
    ("disc/clothing1m", {"warmup_epochs": 10, "momentum": 0.95}),
    ("cal/cifar10n_worse", {"warmup_epochs": 66, "alpha_sieve": 2.0, "prior_scale": 1.0}),
    ("cal/cifar100n", {"warmup_epochs": 66, "alpha_sieve": 1.0, "prior_scale": 10.0}),
    ("volminnet/cifar100_sym50", {"init": 4.5, "lam": 1e-4, "transition_lr": 0.01}),
    ("trevision/cifar10_sym50", {"reweight_epochs": 200, "accumulate": False}),
    ("trevision/cifar10n_aggre", {"reweight_epochs": 30}),
    ("cores/cifar10_inst40", {"beta": 2.0, "schedule_epochs": 100}),
    ("peer/cifar10_sym50", {"alpha": None, "alpha_schedule": "dense", "schedule_epochs": 300}),
    ("peer/cifar10n_worse", {"warmup_epochs": 200, "alpha": None}),
    ("fdiv/cifar10_sym50", {"warmup_epochs": 240, "stage_lr_factor": 100.0}),
    ("gls/cifar10_sym40", {"warmup_epochs": 120, "stage_lr_factor": 1e-3, "smooth_rate": -0.2}),
])
def test_method_values_per_setting(name, expected):
    cfg = compose_experiment(name)
    assert {k: cfg.method[k] for k in expected} == expected


def test_the_one_run_protocols_reach_the_authors_learning_rates():
    # lr at epoch e = the step schedule's x the method's factor after its warm-up
    def lr(cfg, epoch):
        drops = sum(epoch >= m for m in cfg.scheduler.milestones)
        factor = cfg.method.stage_lr_factor if epoch >= cfg.method.warmup_epochs else 1.0
        return cfg.optimizer.lr * cfg.scheduler.gamma ** drops * factor
    fdiv, gls = compose_experiment("fdiv/cifar10_sym50"), compose_experiment("gls/cifar10_sym40")
    # f-div: CE 0.1 / 0.01 @60 / 1e-3 @120 / 1e-4 @180 for 240 epochs, then 0.01 / 1e-3 @30 / 1e-4 @60 / 1e-5 @90
    assert [lr(fdiv, e) for e in (0, 60, 120, 180, 240, 270, 300, 330)] == pytest.approx(
        [0.1, 0.01, 1e-3, 1e-4, 0.01, 1e-3, 1e-4, 1e-5])
    assert fdiv.trainer.max_epochs == 340
    # GLS-load: CE 0.1 / 0.01 @40 / 1e-3 @80 for 120 epochs, then 1e-6 for 100
    assert [lr(gls, e) for e in (0, 40, 80, 120, 219)] == pytest.approx([0.1, 0.01, 1e-3, 1e-6, 1e-6])
    assert gls.trainer.max_epochs == 220


def test_elr_schedules():
    sym, asym = compose_experiment("elr/cifar10_sym50"), compose_experiment("elr/cifar10_asym40")
    assert sym.scheduler._target_.endswith("CosineAnnealingWarmRestarts") and sym.scheduler.T_0 == 10
    assert asym.scheduler.milestones == [40, 80] and asym.scheduler.gamma == 0.01 and asym.trainer.max_epochs == 120


def test_fair_protocol_gives_every_method_one_network_and_a_noisy_validation_split():
    for method in ("ce", "dividemix", "elr_plus"):
        with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
            cfg = compose("config", overrides=["+protocol=fair", f"method={method}", "data=cifar10"])
        assert cfg.model._target_.endswith("ResNet34") or "resnet" in cfg.model._target_.lower()
        assert cfg.data.val_fraction == 0.1 and cfg.callbacks.model_checkpoint.monitor == "val/acc"


@pytest.mark.parametrize("name, lr, momentum, weight_decay, epochs, model", [
    ("promix/cifar10n_worse", 0.05, 0.9, 5e-4, 600, "PreActResNet18"),
    ("disc/cifar10_sym50", 0.1, 0.0, 1e-3, 200, "PreActResNet18"),
    ("disc/cifar10_inst40", 0.1, 0.0, 1e-3, 200, "ResNet34"),
])
def test_promix_and_disc_protocols(name, lr, momentum, weight_decay, epochs, model):
    cfg = compose_experiment(name)
    assert (cfg.optimizer.lr, cfg.optimizer.momentum, cfg.optimizer.weight_decay) == (lr, momentum, weight_decay)
    assert cfg.trainer.max_epochs == epochs and cfg.model._target_.endswith(model)
    assert cfg.stages.views.kinds == (["weak", "strong3"] if name.startswith("promix") else ["weak", "strong_color"])


def test_the_cifar_n_protocol_and_the_transition_methods_stages():
    cal = compose_experiment("cal/cifar10n_aggre")  # the CIFAR-N paper's: ResNet-34, SGD 0.1, x0.1 at 60
    assert cal.model._target_.endswith("ResNet34") and cal.optimizer.lr == 0.1 and cal.optimizer.weight_decay == 5e-4
    assert cal.scheduler.milestones == [60] and cal.trainer.max_epochs == 166  # 66 sieve + 100 CAL epochs
    tr = compose_experiment("trevision/cifar10n_worse")
    assert tr.stages.transition.epochs == 200 and tr.trainer.max_epochs == 60 and tr.stages.transition.hand_on_model
    own = compose_experiment("trevision/cifar10_sym50")  # the authors' own: a CE stage of 20 epochs without momentum
    assert own.stages.transition.epochs == 20 and own.stages.transition.optimizer.momentum == 0.0
    assert own.model._target_.endswith("CifarResNet18") and own.optimizer.momentum == 0.9
