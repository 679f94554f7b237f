"""MemorizationRates: of noisy-labelled samples (given != clean) the share predicted as the given wrong
label (mem/noisy_fit) and as the true label (mem/noisy_true); of clean ones the share predicted right."""
import math

import torch

from noisyrobust.diagnostics import MemorizationRates

# position:       0  1  2  3  4  5
GIVEN = [0, 1, 2, 3, 4, 5]
CLEAN = [0, 1, 0, 3, 1, 2]   # noisy at 2, 4, 5; clean at 0, 1, 3
PREDS = [0, 2, 2, 3, 1, 0]   # 2: fits the wrong label; 4: predicts the truth; 5: neither
#                              clean: 0 right, 1 wrong, 3 right


def t(xs):
    return torch.tensor(xs)


def values(metric):
    return {k: float(v) for k, v in metric.compute().items()}


def test_counts_noisy_fit_noisy_true_and_clean_fit_by_hand():
    m = MemorizationRates()
    m.update(t(PREDS), t(GIVEN), t(CLEAN))
    got = values(m)
    assert set(got) == {"mem/noisy_fit", "mem/noisy_true", "mem/clean_fit"}
    assert math.isclose(got["mem/noisy_fit"], 1 / 3, rel_tol=1e-6)
    assert math.isclose(got["mem/noisy_true"], 1 / 3, rel_tol=1e-6)
    assert math.isclose(got["mem/clean_fit"], 2 / 3, rel_tol=1e-6)


def test_accumulates_counts_over_updates_not_the_mean_of_batch_rates():
    m = MemorizationRates()
    m.update(t(PREDS), t(GIVEN), t(CLEAN))
    # second batch: noisy at 0 (given 1, clean 0) fitted; clean at 1, 2 both right
    m.update(t([1, 7, 8]), t([1, 7, 8]), t([0, 7, 8]))
    got = values(m)
    # noisy: 3 + 1 = 4, fitted 1 + 1 = 2, true 1 + 0 = 1; clean: 3 + 2 = 5, right 2 + 2 = 4
    assert math.isclose(got["mem/noisy_fit"], 2 / 4, rel_tol=1e-6)
    assert math.isclose(got["mem/noisy_true"], 1 / 4, rel_tol=1e-6)
    assert math.isclose(got["mem/clean_fit"], 4 / 5, rel_tol=1e-6)
    # the mean of the two batches' rates would have been (1/3 + 1) / 2 = 2/3 for noisy_fit
    assert not math.isclose(got["mem/noisy_fit"], 2 / 3, rel_tol=1e-3)


def test_reset_forgets_earlier_updates():
    m = MemorizationRates()
    m.update(t(PREDS), t(GIVEN), t(CLEAN))
    m.reset()
    m.update(t([1, 0, 8]), t([1, 7, 8]), t([0, 7, 8]))  # noisy 0 fitted; clean: 1 wrong, 2 right
    got = values(m)
    assert math.isclose(got["mem/noisy_fit"], 1.0, rel_tol=1e-6)
    assert math.isclose(got["mem/noisy_true"], 0.0, abs_tol=1e-9)
    assert math.isclose(got["mem/clean_fit"], 1 / 2, rel_tol=1e-6)


def test_noisy_rates_are_nan_when_there_are_no_noisy_samples():
    m = MemorizationRates()
    m.update(t([0, 1, 1]), t([0, 1, 2]), t([0, 1, 2]))
    got = values(m)
    assert math.isnan(got["mem/noisy_fit"])
    assert math.isnan(got["mem/noisy_true"])
    assert math.isclose(got["mem/clean_fit"], 2 / 3, rel_tol=1e-6)


def test_clean_fit_is_nan_when_every_label_is_noisy():
    m = MemorizationRates()
    m.update(t([1, 0]), t([1, 2]), t([0, 0]))
    got = values(m)
    assert math.isclose(got["mem/noisy_fit"], 1 / 2, rel_tol=1e-6)
    assert math.isclose(got["mem/noisy_true"], 1 / 2, rel_tol=1e-6)
    assert math.isnan(got["mem/clean_fit"])
