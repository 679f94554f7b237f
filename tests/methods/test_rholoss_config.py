"""The RHO-LOSS configs compose as documented: method=rholoss brings the large batch (320) and its options,
the command line still wins, selection=<rule> and method.selection=<rule> choose the rule, the IL model and
optimizer (the stage stages.irreducible_loss) default to the run's and can be chosen apart, and experiment=rholoss/cifar10 holds the paper's
CIFAR-10 protocol (Mindermann et al. 2022; the values are written out here)."""
import pytest
from conftest import compose_cfg
from omegaconf import OmegaConf


def resolved(node):
    return OmegaConf.to_container(node, resolve=True)


def test_method_rholoss_brings_the_large_batch_and_the_papers_defaults(tmp_path):
    cfg = compose_cfg(tmp_path, "method=rholoss")
    m = cfg.method
    assert m._target_ == "noisyrobust.methods.RHOLoss"
    assert cfg.data.batch_size == 320 and m.keep_ratio == pytest.approx(0.1)
    stage = cfg.stages.irreducible_loss
    assert stage.holdout_fraction == pytest.approx(0.5) and m.selection == "reducible_loss"
    assert m.selection_eval_bn is True and stage.il_path is None
    assert stage.cache_dir == cfg.paths.cache_dir
    assert resolved(stage.model) == resolved(cfg.model) and resolved(stage.optimizer) == resolved(cfg.optimizer)
    # what the method receives: its own settings, never the run config (the stage has a node of its own)
    assert set(m) == {"_target_", "net", "num_classes", "optimizer", "scheduler", "keep_ratio", "selection_eval_bn",
                      "selection", "selection_scope"}


@pytest.mark.parametrize("overrides, batch", [(["data.batch_size=64"], 64), (["data=cifar10"], 320),
                                             (["data=cifar10", "data.batch_size=160"], 160)])
def test_the_command_line_still_sets_the_large_batch(tmp_path, overrides, batch):
    assert compose_cfg(tmp_path, "method=rholoss", *overrides).data.batch_size == batch


@pytest.mark.parametrize("rule", ["reducible_loss", "loss", "irreducible", "uniform"])
def test_selection_group_and_method_selection_choose_the_rule(tmp_path, rule):
    assert compose_cfg(tmp_path, "method=rholoss", f"selection={rule}").method.selection == rule
    assert compose_cfg(tmp_path, "method=rholoss", f"method.selection={rule}").method.selection == rule


def test_the_il_model_and_optimizer_can_differ_from_the_targets(tmp_path):
    cfg = compose_cfg(tmp_path, "method=rholoss", "model=cnn_jocor", "model@stages.irreducible_loss.model=mlp",
                      "stages.irreducible_loss.model.hidden=[32]", "optimizer@stages.irreducible_loss.optimizer=sgd", "stages.irreducible_loss.optimizer.lr=0.05")
    assert cfg.method.net._target_ == "noisyrobust.models.JoCoRCNN"
    assert cfg.stages.irreducible_loss.model._target_ == "noisyrobust.models.MLP" and list(cfg.stages.irreducible_loss.model.hidden) == [32]
    assert cfg.stages.irreducible_loss.optimizer._target_ == "torch.optim.SGD" and cfg.stages.irreducible_loss.optimizer.lr == pytest.approx(0.05)
    assert cfg.optimizer._target_ == "torch.optim.Adam"


def test_experiment_rholoss_cifar10_holds_the_papers_protocol(tmp_path):
    cfg = compose_cfg(tmp_path, "experiment=rholoss/cifar10")
    assert cfg.data.name == "cifar10" and cfg.data.batch_size == 320
    assert cfg.model._target_ == "noisyrobust.models.PreActResNet18"  # ResNet-18, the CIFAR variant
    assert cfg.method._target_ == "noisyrobust.methods.RHOLoss"
    assert cfg.method.net._target_ == cfg.stages.irreducible_loss.model._target_ == "noisyrobust.models.PreActResNet18"
    assert cfg.optimizer._target_ == "torch.optim.AdamW" and cfg.optimizer.lr == pytest.approx(1e-3)
    assert cfg.stages.irreducible_loss.optimizer._target_ == "torch.optim.AdamW" and cfg.stages.irreducible_loss.optimizer.lr == pytest.approx(1e-3)
    assert cfg.method.keep_ratio == pytest.approx(0.1) and cfg.stages.irreducible_loss.holdout_fraction == pytest.approx(0.5)
    assert cfg.method.selection == "reducible_loss" and cfg.method.selection_eval_bn is True
    # a noisy validation split, on which the IL checkpoint (and best.ckpt) is chosen, never the test set
    assert cfg.data.val_fraction > 0 and cfg.callbacks.model_checkpoint.monitor == "val/acc"
    assert compose_cfg(tmp_path, "experiment=rholoss/cifar10", "noise=uniform0.4").noise.rate == pytest.approx(0.4)
