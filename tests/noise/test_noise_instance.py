"""Instance-dependent noise (Xia et al. 2020): per-sample rate q_i ~ N(r, std^2) truncated to [0, 1]."""

import math

import numpy as np
import pytest

from noisyrobust.errors import UserError
from noisyrobust.noise import instance_noise


def binomial_bound(p, n):
    return 4 * math.sqrt(p * (1 - p) / n)


def truncated_normal_mean(mu, sigma, lo=0.0, hi=1.0):
    """E[X | lo <= X <= hi] for X ~ N(mu, sigma^2)."""
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    a, b = (lo - mu) / sigma, (hi - mu) / sigma
    return mu + sigma * (pdf(a) - pdf(b)) / (cdf(b) - cdf(a))


def make_data(n, c, d, seed):
    g = np.random.default_rng(seed)
    x = g.standard_normal((n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return g.integers(0, c, n), x


def test_fixed_q_gives_realized_rate_r():
    clean, x = make_data(50_000, 10, 16, 40)
    noisy = instance_noise(clean, rate=0.3, num_classes=10, rng=np.random.default_rng(41), features=x, std=0.0)
    assert abs(np.mean(noisy != clean) - 0.3) <= binomial_bound(0.3, clean.size)


@pytest.mark.parametrize("rate", [0.05, 0.4, 1.0])
def test_realized_rate_is_the_truncated_normal_mean(rate):
    # each flip is Bernoulli(q_i) with q_i iid, so marginally Bernoulli(E q): the binomial bound holds
    clean, x = make_data(50_000, 10, 16, 42)
    noisy = instance_noise(clean, rate=rate, num_classes=10, rng=np.random.default_rng(43), features=x)
    m = truncated_normal_mean(rate, 0.1)
    realized = np.mean(noisy != clean)
    assert abs(realized - m) <= binomial_bound(m, clean.size)
    if rate == 0.05:  # truncation (0.101) is neither the untruncated mean nor clipping (0.070)
        assert abs(realized - 0.05) > 0.03 and abs(realized - 0.0698) > 0.02


def test_rate_one_without_spread_never_keeps_the_true_class():
    clean, x = make_data(5_000, 7, 8, 44)
    noisy = instance_noise(clean, rate=1.0, num_classes=7, rng=np.random.default_rng(45), features=x, std=0.0)
    assert np.all(noisy != clean)
    assert np.all((noisy >= 0) & (noisy < 7))


def test_zero_features_give_symmetric_noise():
    # x = 0 makes every logit 0, so a flip goes uniformly to one of the other C-1 classes
    c, per_class, rate = 5, 20_000, 0.5
    clean = np.repeat(np.arange(c), per_class)
    x = np.zeros((clean.size, 3))
    noisy = instance_noise(clean, rate=rate, num_classes=c, rng=np.random.default_rng(46), features=x, std=0.0)
    for i in range(c):
        row = noisy[clean == i]
        for j in range(c):
            p = 1 - rate if j == i else rate / (c - 1)
            assert abs(np.mean(row == j) - p) <= binomial_bound(p, per_class)


def test_flip_target_depends_on_the_instance():
    # two fixed, large feature vectors: softmax(x W[y]) is usually nearly one-hot (unless two logits
    # nearly tie), so most (class, vector) groups flip almost always to one class -- under
    # instance-free flipping no group would -- and the two vectors pick different classes somewhere
    c, d, m = 10, 8, 1_000
    g = np.random.default_rng(47)
    v = 30 * g.standard_normal((2, d))
    clean = np.repeat(np.arange(c), 2 * m)
    which = np.tile(np.repeat([0, 1], m), c)
    noisy = instance_noise(clean, rate=1.0, num_classes=c, rng=np.random.default_rng(48),
                           features=v[which], std=0.0)
    favourite, concentrated = {}, 0
    for i in range(c):
        for k in (0, 1):
            counts = np.bincount(noisy[(clean == i) & (which == k)], minlength=c)
            assert counts[i] == 0
            concentrated += counts.max() / m > 0.9
            favourite[i, k] = counts.argmax()
    assert concentrated >= 15
    assert any(favourite[i, 0] != favourite[i, 1] for i in range(c))


def test_features_must_match_the_labels():
    clean, x = make_data(100, 10, 4, 49)
    with pytest.raises(UserError, match=r"\(99, 4\)"):
        instance_noise(clean, rate=0.2, num_classes=10, rng=np.random.default_rng(0), features=x[:99])
    with pytest.raises(UserError, match="std -0.1"):
        instance_noise(clean, rate=0.2, num_classes=10, rng=np.random.default_rng(0), features=x, std=-0.1)
