"""DivideMix's GMM division on a hand-made bimodal sample: the low-loss mode is called clean."""
import numpy as np

from noisyrobust.selection.gmm import gmm_clean_probability, min_max_normalize


def test_min_max_normalize():
    assert min_max_normalize(np.array([2.0, 4.0, 3.0])).tolist() == [0.0, 1.0, 0.5]
    assert min_max_normalize(np.array([1.0, 1.0])).tolist() == [0.0, 0.0]


def test_bimodal_losses_are_split_at_the_valley_and_the_low_mode_is_clean():
    rng = np.random.default_rng(0)
    clean, noisy = rng.normal(0.2, 0.1, 700).clip(0), rng.normal(3.0, 0.4, 300)
    prob = gmm_clean_probability(np.concatenate([clean, noisy]), seed=0)
    assert (prob[:700] > 0.5).mean() > 0.99 and (prob[700:] < 0.5).mean() > 0.99
    # the labelled share is the clean share within binomial-free bounds of a clean separation
    assert abs((prob > 0.5).mean() - 0.7) < 0.01


def test_same_losses_same_seed_same_split():
    losses = np.random.default_rng(1).gamma(1.0, 1.0, 500)
    assert np.array_equal(gmm_clean_probability(losses, seed=3), gmm_clean_probability(losses, seed=3))
