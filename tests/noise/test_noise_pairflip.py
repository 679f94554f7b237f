"""Pair-flip noise: with prob. r, y -> (y+1) mod C, nothing else."""

import math

import numpy as np

from noisyrobust.noise import pairflip_noise


def binomial_bound(p, n):
    return 4 * math.sqrt(p * (1 - p) / n)


def test_flips_only_to_the_next_class_with_wraparound():
    c, n, rate = 6, 60_000, 0.45
    clean = np.tile(np.arange(c), n // c)
    noisy = pairflip_noise(clean, rate=rate, num_classes=c, rng=np.random.default_rng(20))
    flipped = noisy != clean
    expected_target = np.array([1, 2, 3, 4, 5, 0])[clean]
    np.testing.assert_array_equal(noisy[flipped], expected_target[flipped])
    assert np.any(noisy[clean == c - 1] == 0)  # C-1 wraps to 0
    for i in range(c):
        rate_i = np.mean(flipped[clean == i])
        assert abs(rate_i - rate) <= binomial_bound(rate, n // c)


def test_rate_one_shifts_every_label():
    clean = np.array([0, 1, 2, 2, 1, 0])
    noisy = pairflip_noise(clean, rate=1.0, num_classes=3, rng=np.random.default_rng(21))
    np.testing.assert_array_equal(noisy, [1, 2, 0, 0, 2, 1])
