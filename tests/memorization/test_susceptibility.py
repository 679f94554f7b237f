"""Susceptibility (Forouzesh et al.): logged every epoch, and training exactly as without it."""
import csv

import numpy as np
import pytest

from noisyrobust.memorization.susceptibility import running_susceptibility, susceptibility_region


def test_running_susceptibility_averages_the_steps_after_epoch_zero():
    assert running_susceptibility([5.0]) == 5.0
    assert running_susceptibility([5.0, 0.2, 0.4, 0.9]) == pytest.approx((0.2 + 0.4 + 0.9) / 3)


def test_regions_split_accuracy_and_susceptibility_at_the_thresholds():
    kw = dict(acc_threshold=0.9, zeta_threshold=0.1)
    assert [susceptibility_region(a, z, **kw) for a, z in [(0.95, 0.05), (0.95, 0.2), (0.5, 0.05), (0.5, 0.2)]] \
        == [1, 2, 3, 4]


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_training_is_unchanged_by_the_susceptibility_step(fit, optimizer):
    common = ["noise=sym0.4", f"optimizer={optimizer}", "model.dropout=0.2", "diagnostics=none", "trainer.max_epochs=3"]
    plain, plain_dir = fit(*common, "callbacks=none", name="plain")
    watched, watched_dir = fit(*common, "callbacks=[none,susceptibility]", name="watched")
    rows = lambda d: [r for r in csv.DictReader((d / "metrics.csv").open())]  # noqa: E731
    losses = lambda d: [r["train/loss_step"] for r in rows(d) if r.get("train/loss_step")]  # noqa: E731
    assert losses(plain_dir) == losses(watched_dir) and len(losses(plain_dir)) > 0  # identical to the last digit
    test_accs = lambda d: [r["test/acc"] for r in rows(d) if r.get("test/acc")]  # noqa: E731
    assert test_accs(plain_dir) == test_accs(watched_dir) and plain["test_acc_last"] == watched["test_acc_last"]
    zeta = [float(r["mem/susceptibility"]) for r in rows(watched_dir) if r.get("mem/susceptibility")]
    steps = [float(r["mem/susceptibility_step"]) for r in rows(watched_dir) if r.get("mem/susceptibility_step")]
    assert len(zeta) == 3 and np.isfinite(zeta).all()
    assert zeta[-1] == pytest.approx(np.mean(steps[1:]), rel=1e-6)
    assert "mem/susceptibility" not in (plain_dir / "metrics.csv").read_text()
