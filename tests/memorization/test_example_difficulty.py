"""Arpit et al.'s per-example misclassification statistics against the binomial written out here."""
from math import comb

import numpy as np
import pytest

from noisyrobust.memorization.example_difficulty import (binomial_ks_distance, binomial_reference, dispersion,
                                                         misclassification_rates)


def binomial_cdf(k: int, n: int, p: float) -> float:
    return sum(comb(n, j) * p ** j * (1 - p) ** (n - j) for j in range(k + 1))


@pytest.mark.parametrize("seeds,p,n", [(20, 0.3, 1000), (5, 0.9, 37), (100, 0.05, 250)])
def test_binomial_reference_is_the_binomial_quantile_curve(seeds, p, n):
    # the i-th point: the smallest k with CDF(k) >= (i + 1/2) / N, over S
    expected = [min(k for k in range(seeds + 1) if binomial_cdf(k, seeds, p) >= (i + 0.5) / n - 1e-12) / seeds
                for i in range(n)]
    assert binomial_reference(n, seeds, p) == pytest.approx(expected)


def test_binomial_reference_matches_binomial_draws_in_distribution():
    rng = np.random.default_rng(0)
    drawn = np.sort(rng.binomial(20, 0.4, size=20000) / 20)
    assert np.abs(np.quantile(drawn, [0.1, 0.5, 0.9]) - np.quantile(binomial_reference(20000, 20, 0.4),
                                                                      [0.1, 0.5, 0.9])).max() <= 0.05


def test_rates_are_the_share_of_seeds_that_misclassify():
    correct = np.array([[1, 0, 1], [1, 0, 0], [1, 1, 0], [1, 0, 0]], dtype=bool)  # 4 seeds x 3 examples
    assert misclassification_rates(correct).tolist() == [0.0, 0.75, 0.75]


def test_ks_distance_of_a_small_case_by_hand():
    # S = 2, p = 0.5: binomial CDF at k = 0, 1, 2 is 1/4, 3/4, 1; rates 0, 0, 1, 1: empirical CDF 1/2, 1/2, 1
    assert binomial_ks_distance(np.array([0.0, 0.0, 1.0, 1.0]), 2, 0.5) == pytest.approx(0.25)


def test_equally_hard_examples_look_binomial_and_easy_hard_ones_do_not():
    rng = np.random.default_rng(1)
    seeds, n = 20, 5000
    same = rng.random((seeds, n)) > 0.3  # every example misclassified with probability 0.3
    rates = misclassification_rates(same)
    # the variance of the sample variance over 5000 examples is small: the ratio is 1 within a few percent
    assert 0.93 < dispersion(rates, seeds) < 1.07
    assert binomial_ks_distance(rates, seeds, rates.mean()) < 0.03
    # half the examples always right, half misclassified with probability 0.6: mean 0.3, far from binomial
    p = np.where(np.arange(n) < n // 2, 0.0, 0.6)
    mixed = misclassification_rates(rng.random((seeds, n)) >= p)
    assert abs(mixed.mean() - 0.3) < 0.02
    assert dispersion(mixed, seeds) > 5 and binomial_ks_distance(mixed, seeds, mixed.mean()) > 0.4


def test_dispersion_is_undefined_without_spread_in_the_mean():
    assert np.isnan(dispersion(np.zeros(10), 5)) and np.isnan(dispersion(np.ones(10), 5))
