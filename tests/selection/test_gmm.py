"""DivideMix's GMM division on a hand-made bimodal sample: the low-loss mode is called clean."""
import numpy as np

import torch

from noisyrobust.selection.gmm import gmm_clean_probability, min_max_normalize, windowed_losses


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


def test_windowed_losses_average_the_last_five_normalized_epochs_as_the_reference_at_90_percent():
    # the reference (DivideMix, Train_cifar.py eval_train): losses = (l - min) / (max - min); all_loss.append(losses);
    # if r == 0.9: input = stack(all_loss)[-5:].mean(0) — here for two networks (columns) over 8 divisions
    rng = np.random.default_rng(0)
    epochs = [rng.gamma(1.0, 1.0, (50, 2)) for _ in range(8)]
    history = torch.zeros(50, 2, 5, dtype=torch.float64)
    reference = []
    for division, loss in enumerate(epochs):
        reference.append((loss - loss.min(0)) / (loss.max(0) - loss.min(0)))
        ours = windowed_losses(history, torch.as_tensor(loss), division)
        np.testing.assert_allclose(ours.numpy(), np.stack(reference)[-5:].mean(0), rtol=1e-12)
    # a window of 1: this division's normalized losses alone, the GMM input of every other noise level
    one = torch.zeros(50, 2, 1, dtype=torch.float64)
    np.testing.assert_allclose(windowed_losses(one, torch.as_tensor(epochs[0]), 0).numpy(), reference[0], rtol=1e-12)
