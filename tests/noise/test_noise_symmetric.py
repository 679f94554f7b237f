"""Symmetric noise: P(y~=j | y=i) = 1-r if j=i else r/(C-1); the true class is never a flip target."""

import math

import numpy as np
import pytest

from noisyrobust.noise import symmetric_noise


def binomial_bound(p, n):
    """4 standard deviations of an empirical share with success probability p over n trials."""
    return 4 * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("rate", [0.2, 0.45, 0.8])
def test_realized_rate_is_r_not_r_times_c_minus_1_over_c(rate):
    c, n = 10, 200_000
    clean = np.random.default_rng(100).integers(0, c, n)
    noisy = symmetric_noise(clean, rate=rate, num_classes=c, rng=np.random.default_rng(1))
    realized = np.mean(noisy != clean)
    assert abs(realized - rate) <= binomial_bound(rate, n)
    # the "uniform" model would give r(C-1)/C, far outside the bound
    assert abs(realized - rate * (c - 1) / c) > binomial_bound(rate, n)


def test_transition_rows_match_formula():
    c, n, rate = 5, 100_000, 0.4
    clean = np.tile(np.arange(c), n // c)
    noisy = symmetric_noise(clean, rate=rate, num_classes=c, rng=np.random.default_rng(2))
    for i in range(c):
        row = noisy[clean == i]
        m = row.size
        kept = np.mean(row == i)
        assert abs(kept - (1 - rate)) <= binomial_bound(1 - rate, m)
        for j in range(c):
            if j != i:
                share = np.mean(row == j)
                assert abs(share - rate / (c - 1)) <= binomial_bound(rate / (c - 1), m)


def test_rate_one_changes_every_label_uniformly_over_the_others():
    c, n = 4, 40_000
    clean = np.zeros(n, dtype=np.int64)
    noisy = symmetric_noise(clean, rate=1.0, num_classes=c, rng=np.random.default_rng(3))
    assert np.all(noisy != clean)
    counts = np.bincount(noisy, minlength=c)
    for j in range(1, c):
        assert abs(counts[j] / n - 1 / 3) <= binomial_bound(1 / 3, n)


def test_two_classes_always_flip_to_the_other_class():
    clean = np.array([0, 1] * 500)
    noisy = symmetric_noise(clean, rate=1.0, num_classes=2, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(noisy, 1 - clean)
