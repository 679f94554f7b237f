"""Uniform noise: with prob. r the label is redrawn from all C classes, so the realized rate is r(C-1)/C."""

import math

import numpy as np
import pytest

from noisyrobust.noise import uniform_noise


def binomial_bound(p, n):
    return 4 * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("rate,c", [(0.4, 10), (0.8, 3), (1.0, 10)])
def test_realized_rate_is_r_times_c_minus_1_over_c(rate, c):
    n = 200_000
    clean = np.random.default_rng(10).integers(0, c, n)
    noisy = uniform_noise(clean, rate=rate, num_classes=c, rng=np.random.default_rng(11))
    expected = rate * (c - 1) / c
    assert abs(np.mean(noisy != clean) - expected) <= binomial_bound(expected, n)


def test_transition_rows_match_formula():
    c, n, rate = 4, 100_000, 0.6
    clean = np.tile(np.arange(c), n // c)
    noisy = uniform_noise(clean, rate=rate, num_classes=c, rng=np.random.default_rng(12))
    for i in range(c):
        row = noisy[clean == i]
        for j in range(c):
            p = 1 - rate + rate / c if j == i else rate / c
            assert abs(np.mean(row == j) - p) <= binomial_bound(p, row.size)


def test_random_labels_are_independent_of_the_clean_labels():
    # random_labels = uniform with r = 1: every row of the transition matrix is 1/C everywhere
    c, n = 5, 100_000
    clean = np.tile(np.arange(c), n // c)
    noisy = uniform_noise(clean, rate=1.0, num_classes=c, rng=np.random.default_rng(13))
    for i in range(c):
        row = noisy[clean == i]
        shares = np.bincount(row, minlength=c) / row.size
        assert np.all(np.abs(shares - 1 / c) <= binomial_bound(1 / c, row.size))
