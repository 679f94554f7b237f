"""Behaviour on the real digits at 40% symmetric noise: the two-network methods end above CE and train
on a cleaner subset than the noisy labels they are given."""
import csv

import pytest

# one test process trains the module's shared run once (xdist would run its fixture in each)
pytestmark = pytest.mark.xdist_group("robust_beats_ce")

NOISE = 0.4


def last_value(out, key):
    values = [r[key] for r in csv.DictReader((out / "metrics.csv").open()) if r.get(key)]
    return float(values[-1])


@pytest.fixture(scope="module")
def ce_final(tmp_path_factory):
    from conftest import compose_cfg
    from noisyrobust.run import train

    return train(compose_cfg(tmp_path_factory.mktemp("ce"), "method=ce", "noise=sym0.4", "trainer.max_epochs=100"))


@pytest.mark.parametrize("method", ["jocor", "coteaching"])
def test_two_network_method_ends_above_ce_with_label_precision_above_clean_share(fit, ce_final, method):
    summary, out = fit(f"method={method}", "noise=sym0.4", "trainer.max_epochs=100")
    assert summary["test_acc_last"] > ce_final["test_acc_last"] + 0.05
    assert summary["test_acc_mean_last10"] > ce_final["test_acc_mean_last10"] + 0.05
    assert last_value(out, "select/precision") > 1 - NOISE + 0.2
    assert last_value(out, "select/ratio") == pytest.approx(1 - NOISE, abs=0.01)
