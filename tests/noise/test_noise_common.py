"""Properties every injector shares: determinism, purity, dtype, rate 0, and input validation."""

import numpy as np
import pytest

from noisyrobust.errors import UserError
from noisyrobust.noise import (
    asymmetric_noise,
    instance_noise,
    no_noise,
    pairflip_noise,
    symmetric_noise,
    uniform_noise,
)

C = 10
FEATURES = np.random.default_rng(7).standard_normal((2_000, 6))

INJECTORS = {
    "symmetric": lambda y, r, rng: symmetric_noise(y, rate=r, num_classes=C, rng=rng),
    "uniform": lambda y, r, rng: uniform_noise(y, rate=r, num_classes=C, rng=rng),
    "pairflip": lambda y, r, rng: pairflip_noise(y, rate=r, num_classes=C, rng=rng),
    "asymmetric": lambda y, r, rng: asymmetric_noise(y, rate=r, num_classes=C, rng=rng, dataset="cifar10"),
    "instance": lambda y, r, rng: instance_noise(y, rate=r, num_classes=C, rng=rng,
                                                 features=FEATURES[: len(y)]),
}


def clean_labels(n=2_000):
    return np.random.default_rng(8).integers(0, C, n).astype(np.int32)


@pytest.mark.parametrize("name", sorted(INJECTORS))
def test_same_seed_same_labels_other_seed_other_labels(name):
    inject, y = INJECTORS[name], clean_labels()
    a = inject(y, 0.5, np.random.default_rng(123))
    b = inject(y, 0.5, np.random.default_rng(123))
    d = inject(y, 0.5, np.random.default_rng(124))
    np.testing.assert_array_equal(a, b)
    assert np.any(a != d)


@pytest.mark.parametrize("name", sorted(INJECTORS))
def test_returns_a_new_int64_array_and_leaves_the_input_alone(name):
    y = clean_labels()
    before = y.copy()
    out = INJECTORS[name](y, 0.5, np.random.default_rng(1))
    np.testing.assert_array_equal(y, before)
    assert out.dtype == np.int64 and out.shape == y.shape
    assert not np.shares_memory(out, y)
    assert np.any(out != y)


@pytest.mark.parametrize("name", ["symmetric", "uniform", "pairflip", "asymmetric"])
def test_rate_zero_keeps_every_label(name):
    y = clean_labels()
    np.testing.assert_array_equal(INJECTORS[name](y, 0.0, np.random.default_rng(2)), y)


def test_instance_rate_zero_with_no_spread_keeps_every_label():
    y = clean_labels()
    out = instance_noise(y, rate=0.0, num_classes=C, rng=np.random.default_rng(2), features=FEATURES, std=0.0)
    np.testing.assert_array_equal(out, y)


def test_no_noise_copies_and_rejects_a_nonzero_rate():
    y = clean_labels()
    out = no_noise(y, num_classes=C, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(out, y)
    assert out.dtype == np.int64 and not np.shares_memory(out, y)
    with pytest.raises(UserError, match="0.3"):
        no_noise(y, num_classes=C, rng=np.random.default_rng(0), rate=0.3)


@pytest.mark.parametrize("name", sorted(INJECTORS))
@pytest.mark.parametrize("rate", [1.5, -0.1, float("nan")])
def test_rate_outside_unit_interval_is_a_user_error(name, rate):
    with pytest.raises(UserError, match=rf"noise rate {rate} is outside \[0, 1\]"):
        INJECTORS[name](clean_labels(), rate, np.random.default_rng(0))


@pytest.mark.parametrize("name", sorted(INJECTORS))
@pytest.mark.parametrize("bad,shown", [(C, "label 10 "), (-1, "label -1 ")])
def test_out_of_range_labels_are_a_user_error(name, bad, shown):
    y = clean_labels()
    y[17] = bad
    with pytest.raises(UserError, match=shown):
        INJECTORS[name](y, 0.2, np.random.default_rng(0))


@pytest.mark.parametrize("labels", [np.zeros((4, 2), dtype=int), np.array([0.0, 1.0, 2.0])])
def test_labels_must_be_a_1d_integer_array(labels):
    with pytest.raises(UserError, match="1-D integer"):
        symmetric_noise(labels, rate=0.2, num_classes=C, rng=np.random.default_rng(0))


def test_num_classes_below_two_is_a_user_error():
    with pytest.raises(UserError, match="num_classes 1 "):
        symmetric_noise(np.zeros(3, dtype=int), rate=0.2, num_classes=1, rng=np.random.default_rng(0))
