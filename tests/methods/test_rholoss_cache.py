"""The RHO-LOSS irreducible-loss (IL) stage and its cache, in-process from the real configs on the digits:
a miss trains the IL model and stores the losses, an identical run reuses them without training (and
trains the same target), what determines the IL changes the key and nothing else does, a given il_path is
used and refused when it belongs to another training set, the IL checkpoint is chosen on validation, and
only global rank 0 ever trains or writes."""
import logging
import os
from types import SimpleNamespace

import hydra
import numpy as np
import pytest
import torch
from conftest import compose_cfg

from noisyrobust.errors import UserError
from noisyrobust.stages import irreducible_loss as irreducible
from noisyrobust.stages.irreducible_loss import BestOnValidation, IrreducibleLossStage
from noisyrobust.noise import load_noisy_labels

N_TRAIN = 1797 - 360  # digits: the training set (validation included) beside the fixed clean test split
LOGGER = "noisyrobust.stages.irreducible_loss"


@pytest.fixture
def rho(fit, tmp_path, caplog):
    """fit() of method=rholoss at sym0.4 with a short IL stage and the cache under tmp_path; returns
    (summary, run dir, the RHO-LOSS messages of that run)."""
    caplog.set_level(logging.INFO, logger=LOGGER)

    def _run(*overrides, name):
        caplog.clear()
        summary, out = fit("method=rholoss", "noise=sym0.4", "stages.irreducible_loss.epochs=3",
                           f"paths.cache_dir={tmp_path / 'cache'}", *overrides, name=name)
        return summary, out, [r.getMessage() for r in caplog.records if r.name == LOGGER]

    return _run


def forbid_il_training(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("the IL model was trained again")

    monkeypatch.setattr(IrreducibleLossStage, "train", fail)


def test_a_miss_trains_and_stores_the_il_and_an_identical_run_reuses_it(rho, monkeypatch):
    first, _, messages = rho(name="a")
    il = first["irreducible_loss"]
    path = first["irreducible_loss"]["path"]
    assert il["source"] == "trained" and il["holdout_points"] == 646 and il["target_points"] == 647
    assert any("training the irreducible-loss model on 646 holdout points for 3 epochs" in m for m in messages)
    assert any(f"stored in {path}" in m for m in messages)
    with np.load(path) as f:
        assert int(f["size"]) == N_TRAIN and f["irreducible_loss"].shape == (N_TRAIN,)
        assert str(f["labels_checksum"]) == first["noise"]["checksum"]
        assert np.isfinite(f["irreducible_loss"]).all() and (f["irreducible_loss"] >= 0).all()
        assert len(f["holdout"]) == 646 and len(np.unique(f["holdout"])) == 646
    mtime = os.stat(path).st_mtime_ns

    forbid_il_training(monkeypatch)
    second, _, messages = rho(name="b")
    assert messages == [f"RHO-LOSS: reusing irreducible losses from {path} (cache hit)"]
    assert second["irreducible_loss"]["source"] == "cache"
    assert os.stat(path).st_mtime_ns == mtime
    # the target trains the same either way: the IL stage leaves no trace in its randomness
    for key in ("test_acc_last", "test_acc_mean_last10", "best_val_epoch"):
        assert second[key] == first[key], key


def test_target_trains_on_the_training_split_without_the_holdout(rho):
    summary, out, _ = rho(name="a")
    assert len(load_noisy_labels(out / "noisy_labels.npz")["noisy"]) == N_TRAIN
    cfg = compose_cfg(out, "method=rholoss", "noise=sym0.4")
    dm = hydra.utils.instantiate(cfg.data, noise=None)
    dm.setup("fit")
    with np.load(summary["irreducible_loss"]["path"]) as f:
        holdout = set(f["holdout"].tolist())
    assert holdout <= set(dm.train_indices.tolist()) and not holdout & set(dm.val_indices.tolist())
    assert summary["irreducible_loss"]["target_points"] == len(dm.train_indices) - len(holdout)


def test_what_determines_the_il_changes_the_cache_key_and_nothing_else_does(tmp_path):
    def key(*overrides):
        cfg = compose_cfg(tmp_path, "method=rholoss", "noise=sym0.4", *overrides)
        return hydra.utils.instantiate(cfg.stages.irreducible_loss).key

    base = key()
    assert len(base) == 16
    for same in (["method.keep_ratio=0.2"], ["trainer.max_epochs=7"], ["selection=uniform"],
                 ["data.eval_batch_size=100"], ["optimizer.lr=0.1", "optimizer@stages.irreducible_loss.optimizer=adam"],
                 ["method.selection_eval_bn=false"], ["paths.cache_dir=/elsewhere"]):
        assert key(*same) == base, same
    for other in (["noise.seed=5"], ["noise.rate=0.3"], ["noise=pair0.45"], ["seed=1"],
                  ["model@stages.irreducible_loss.model=mlp", "stages.irreducible_loss.model.hidden=[32]"], ["model.hidden=[32]"],
                  ["optimizer@stages.irreducible_loss.optimizer=sgd"],
                  ["optimizer@stages.irreducible_loss.optimizer=adam", "stages.irreducible_loss.optimizer.lr=0.01"],
                  ["optimizer.lr=0.01"], ["stages.irreducible_loss.epochs=4"], ["stages.irreducible_loss.holdout_fraction=0.4"],
                  ["stages.irreducible_loss.holdout_seed=9"], ["data.batch_size=160"], ["data.val_fraction=0.2"],
                  ["trainer.precision=bf16-mixed"]):
        assert key(*other) != base, other


def test_a_change_of_noise_seed_or_il_model_misses_the_cache(rho):
    a, _, _ = rho(name="a")
    for k, overrides in enumerate((["noise.seed=5"],
                                   ["model@stages.irreducible_loss.model=mlp", "stages.irreducible_loss.model.hidden=[32]"])):
        other, _, messages = rho(*overrides, name=f"other{k}")  # a run directory holds one run
        assert other["irreducible_loss"]["source"] == "trained", overrides
        assert other["irreducible_loss"]["path"] != a["irreducible_loss"]["path"]
        assert any("training the irreducible-loss model" in m for m in messages)


def test_a_given_il_path_is_used_without_training(rho, tmp_path, monkeypatch):
    a, _, _ = rho(name="a")
    forbid_il_training(monkeypatch)
    given = a["irreducible_loss"]["path"]
    b, _, messages = rho(f"stages.irreducible_loss.il_path={given}", f"paths.cache_dir={tmp_path / 'empty'}", name="b")
    assert b["irreducible_loss"]["source"] == "il_path"
    assert messages[0].startswith(f"RHO-LOSS: using the given il_path {given}")
    assert not (tmp_path / "empty").exists()


def write_il(path, *, size, checksum, holdout=()):
    np.savez(path, irreducible_loss=np.ones(size, np.float32), holdout=np.asarray(holdout, np.int64),
             size=np.int64(size), labels_checksum=np.str_(checksum))
    return path


@pytest.mark.parametrize("case", ["size", "labels", "missing", "unreadable"])
def test_a_given_il_path_of_another_training_set_is_refused(rho, tmp_path, case):
    a, _, _ = rho(name="a")
    checksum = a["noise"]["checksum"]
    path = tmp_path / "given.npz"
    expected = {"size": f"irreducible-loss file {path} holds 100 losses, but this training set has {N_TRAIN} points",
                "labels": f"irreducible-loss file {path} was computed on other noisy labels (labels checksum "
                          f"0123456789abcdef, this run {checksum})",
                "missing": f"stages.irreducible_loss.il_path={path} does not exist",
                "unreadable": f"irreducible-loss file {path} is not readable"}[case]
    if case == "size":
        write_il(path, size=100, checksum=checksum)
    elif case == "labels":
        write_il(path, size=N_TRAIN, checksum="0123456789abcdef")
    elif case == "unreadable":
        path.write_bytes(b"not an npz")
    with pytest.raises(UserError) as e:
        rho(f"stages.irreducible_loss.il_path={path}", name="b")
    assert expected in str(e.value)


def test_a_given_il_path_without_holdout_trains_the_target_on_the_whole_training_split(rho, tmp_path):
    a, _, _ = rho(name="a")
    path = write_il(tmp_path / "given.npz", size=N_TRAIN, checksum=a["noise"]["checksum"])
    b, _, _ = rho(f"stages.irreducible_loss.il_path={path}", name="b")
    assert b["irreducible_loss"]["target_points"] == 1293  # 1,437 minus the 10% validation split


def test_il_checkpoint_is_the_epoch_best_on_validation_never_test():
    callback, net = BestOnValidation("val/acc"), torch.nn.Linear(2, 2)
    trainer = SimpleNamespace(sanity_checking=False, callback_metrics={}, current_epoch=0)
    weights = {}
    for epoch, (val, test) in enumerate([(0.5, 0.9), (0.7, 0.6), (0.7, 0.8), (0.6, 0.99)]):
        with torch.no_grad():
            net.weight.fill_(epoch)
        weights[epoch] = net.state_dict()["weight"].clone()
        trainer.current_epoch = epoch
        trainer.callback_metrics = {"val/acc": torch.tensor(val), "test/acc": torch.tensor(test)}
        callback.on_validation_end(trainer, net)
    assert callback.best_epoch == 1 and callback.best == pytest.approx(0.7)  # first of the tied best
    torch.testing.assert_close(callback.state["weight"], weights[1])
    assert callback.by_epoch == pytest.approx([0.5, 0.7, 0.7, 0.6])


def test_the_stored_il_comes_from_the_best_validation_epoch(rho):
    summary, _, _ = rho("stages.irreducible_loss.epochs=6", name="a")
    info = summary["irreducible_loss"]
    by_epoch = info["val_acc_by_epoch"]
    assert len(by_epoch) == 6
    assert info["best_epoch"] == by_epoch.index(max(by_epoch)) and info["val_acc"] == max(by_epoch)


def test_without_a_validation_split_the_il_model_is_its_last_epoch(rho):
    summary, _, messages = rho("data.val_fraction=0", "callbacks=last_only", name="a")
    assert summary["irreducible_loss"]["best_epoch"] is None
    assert any("no validation split" in m for m in messages)


def test_a_process_other_than_global_rank_zero_never_trains_or_writes(tmp_path):
    cfg = compose_cfg(tmp_path, "method=rholoss", "noise=sym0.4")
    dm = hydra.utils.instantiate(cfg.data, noise=None)
    dm.setup("fit")
    stage = IrreducibleLossStage(model={"_target_": "torch.nn.Linear", "in_features": 64, "out_features": 10},
                                 optimizer={"_target_": "torch.optim.Adam", "_partial_": True}, num_classes=10,
                                 holdout_fraction=0.5, holdout_seed=0, epochs=1, il_path=None,
                                 cache_dir=str(tmp_path / "cache"), key={"data": {}, "noise": {}, "seed": 0,
                                                                         "precision": "32-true"})
    rank1 = SimpleNamespace(is_global_zero=False, global_rank=1)
    with pytest.raises(UserError, match="process of global rank 1 found no irreducible losses"):
        stage.run(dm, trainer=rank1)
    assert not (tmp_path / "cache").exists()


def test_cache_file_is_written_atomically(tmp_path, monkeypatch):
    il = irreducible.IrreducibleLosses(np.ones(5, np.float32), np.arange(2), "trained", tmp_path / "x.npz")
    irreducible.save_irreducible_losses(tmp_path / "c" / "x.npz", il, key="k", checksum="c")

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(irreducible.np, "savez", crash)
    with pytest.raises(OSError):
        irreducible.save_irreducible_losses(tmp_path / "c" / "y.npz", il, key="k", checksum="c")
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["x.npz"]  # no partial file, no temp left


@pytest.mark.parametrize("selection", ["reducible_loss", "uniform"])
def test_a_resumed_run_reuses_the_il_and_ends_like_an_uninterrupted_one(rho, selection):
    common = [f"selection={selection}", "seed=3"]
    full, _, _ = rho(*common, "trainer.max_epochs=4", name="full")
    _, half_dir, _ = rho(*common, "trainer.max_epochs=2", name="half")
    resumed, _, messages = rho(*common, "trainer.max_epochs=4", f"ckpt_path={half_dir}/checkpoints/last.ckpt",
                               name="resumed")
    assert any("(cache hit)" in m for m in messages)
    for key in ("epochs", "test_acc_last", "test_acc_mean_last10", "best_val_epoch"):
        assert resumed[key] == full[key], key


@pytest.mark.parametrize("damage", [lambda b: b[:100], lambda b: b"\x00" * 64], ids=["truncated", "garbage"])
def test_a_corrupt_cache_file_is_retrained_with_a_warning(rho, damage):
    first, _, _ = rho(name="a")
    path = first["irreducible_loss"]["path"]
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(damage(data))
    second, _, messages = rho(name="b")
    assert any(m.startswith("RHO-LOSS: ignoring the cached file") and "not readable" in m for m in messages)
    assert second["irreducible_loss"]["source"] == "trained"
    with np.load(path) as f:  # replaced by a readable file
        assert f["irreducible_loss"].shape == (N_TRAIN,)
