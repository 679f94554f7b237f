"""Human noise (the released label sets) and noise statistics where clean labels are unknown (-1)."""
import math

import numpy as np
import pytest

from noisyrobust.config import human_noise_rate
from noisyrobust.errors import UserError
from noisyrobust.noise import UNKNOWN, human_noise, noise_rate, save_noisy_labels, transition_matrix

CLEAN = np.array([0, 1, 2, 2])
SETS = {"aggre": np.array([0, 1, 2, 1]), "worse": np.array([1, 1, 0, 1])}


def test_human_noise_returns_the_named_set_and_the_first_by_default():
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(human_noise(CLEAN, num_classes=3, rng=rng, human_labels=SETS, label="worse"),
                                  SETS["worse"])
    got = human_noise(CLEAN, num_classes=3, rng=rng, human_labels=SETS)
    np.testing.assert_array_equal(got, SETS["aggre"])
    assert got is not SETS["aggre"]  # a copy: the dataset's sets stay as read


def test_human_noise_refuses_unknown_sets_and_datasets_without_any():
    with pytest.raises(UserError, match="noise.label='random9' .* choose from: aggre, worse"):
        human_noise(CLEAN, num_classes=3, rng=None, human_labels=SETS, label="random9")
    with pytest.raises(UserError, match="noise=human needs a dataset released with human noisy labels"):
        human_noise(CLEAN, num_classes=3, rng=None, human_labels={})
    with pytest.raises(UserError, match="label 5 is outside"):
        human_noise(CLEAN, num_classes=3, rng=None, human_labels={"noisy": np.array([0, 5, 1, 1])})


def test_the_configs_rate_is_the_published_one():
    assert human_noise_rate("cifar10n", "worse") == 0.4021 and human_noise_rate("cifar10n", None) == 0.0901
    assert human_noise_rate("cifar100n", None) == 0.4020 and human_noise_rate("digits", None) is None


def test_statistics_leave_out_samples_whose_clean_label_is_unknown(tmp_path):
    clean = np.array([0, UNKNOWN, 1, UNKNOWN, 1])
    noisy = np.array([0, 2, 0, 1, 1])
    assert noise_rate(clean, noisy) == pytest.approx(1 / 3)
    expected = np.array([[1, 0, 0], [0.5, 0.5, 0], [0, 0, 0]])
    np.testing.assert_allclose(transition_matrix(clean, noisy, num_classes=3), expected)
    assert math.isnan(noise_rate(np.full(3, UNKNOWN), np.array([0, 1, 2])))  # nothing known: no rate
    save_noisy_labels(tmp_path / "n.npz", clean=clean, noisy=noisy, num_classes=3)  # -1 is stored as is
    assert np.load(tmp_path / "n.npz")["clean"].tolist() == clean.tolist()
