"""Zhang et al.'s input corruptions (data.inputs=): what each keeps and what it destroys."""
import numpy as np
import pytest
import torch

from noisyrobust.data.inputs import check_inputs, corrupt_inputs
from noisyrobust.errors import UserError


def images(n, seed=0, c=1, size=6):
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 256, (n, c, size, size), dtype=np.uint8))


def test_shuffled_pixels_apply_one_permutation_to_train_and_test():
    train, test = images(20), images(7, seed=1)
    a, b, perm = corrupt_inputs("shuffled_pixels", train, test, rng=np.random.default_rng(3))
    assert sorted(perm.tolist()) == list(range(36)) and perm.tolist() != list(range(36))
    expect_a = train.reshape(20, 1, 36)[:, :, perm].reshape(train.shape)  # x'[p] = x[perm[p]]
    expect_b = test.reshape(7, 1, 36)[:, :, perm].reshape(test.shape)
    assert torch.equal(a, expect_a) and torch.equal(b, expect_b) and a.dtype == torch.uint8


def test_random_pixels_permute_each_image_independently_and_keep_its_values():
    train = images(50, c=3)
    a, _, perm = corrupt_inputs("random_pixels", train, images(5), rng=np.random.default_rng(0))
    assert perm is None
    # each image keeps its multiset of pixels (channels move together: whole RGB triples) ...
    for x, y in zip(train.reshape(50, 3, 36), a.reshape(50, 3, 36)):
        assert sorted(map(tuple, x.T.tolist())) == sorted(map(tuple, y.T.tolist()))
    # ... but two images are not permuted alike: position 0 comes from many different places
    sources = {int(np.flatnonzero((train[i].reshape(3, 36).T == a[i].reshape(3, 36).T[0]).all(1))[0])
               for i in range(50)}
    assert len(sources) > 10


def test_gaussian_inputs_have_the_datasets_channel_mean_and_variance():
    rng = np.random.default_rng(0)
    train = torch.from_numpy(rng.integers(0, 100, (4000, 2, 5, 5), dtype=np.uint8))
    train[:, 1] += 100  # channel 1: mean ~ 149.5; both std ~ 28.9
    a, b, _ = corrupt_inputs("gaussian", train, images(10, c=2, size=5), rng=np.random.default_rng(1))
    assert a.dtype == torch.float32 and a.shape == train.shape and b.shape == (10, 2, 5, 5)
    x = train.double()
    for ch in range(2):
        m, s = x[:, ch].mean().item(), x[:, ch].std().item()
        # 100,000 draws per channel: the sample mean is within 5 standard errors
        assert abs(a[:, ch].double().mean().item() - m) < 5 * s / np.sqrt(1e5)
        assert abs(a[:, ch].double().std().item() / s - 1) < 0.02
    # no information about the images is left: within a channel, uncorrelated with the originals
    assert abs(np.corrcoef(a[:, 0].flatten().numpy(), x[:, 0].flatten().numpy())[0, 1]) < 0.02


def test_the_same_seed_draws_the_same_inputs():
    train, test = images(30), images(5)
    for kind in ("shuffled_pixels", "random_pixels", "gaussian"):
        one = corrupt_inputs(kind, train, test, rng=np.random.default_rng(7))
        two = corrupt_inputs(kind, train, test, rng=np.random.default_rng(7))
        assert torch.equal(one[0], two[0]) and torch.equal(one[1], two[1])


def test_unknown_corruption_and_file_datasets_are_refused():
    with pytest.raises(UserError, match="data.inputs='pixels' is unknown"):
        check_inputs("pixels", in_memory_images=True, data_name="digits")
    with pytest.raises(UserError, match="data=clothing1m"):
        check_inputs("gaussian", in_memory_images=False, data_name="clothing1m")
    assert check_inputs("none", in_memory_images=False, data_name="clothing1m") == "none"


def test_input_signal_blends_each_image_toward_its_gaussian_draw():
    train, test = images(40), images(6)
    noise_train, noise_test, _ = corrupt_inputs("gaussian", train, test, rng=np.random.default_rng(5))
    for f in (0.25, 0.5, 1.0):
        a, b, _ = corrupt_inputs("gaussian", train, test, rng=np.random.default_rng(5), signal=f)
        # Badger 2022: x' = f x + (1 - f) g, g the same draw as without the blend
        assert torch.allclose(a, f * train.double().float() + (1 - f) * noise_train, atol=1e-4)
        assert torch.allclose(b, f * test.double().float() + (1 - f) * noise_test, atol=1e-4)
    real, _, _ = corrupt_inputs("gaussian", train, test, rng=np.random.default_rng(5), signal=1.0)
    assert torch.equal(real, train.float())  # f = 1: the real images


def test_input_signal_outside_its_range_or_without_gaussian_inputs_is_refused():
    with pytest.raises(UserError, match=r"data.input_signal=1.5 is not a share of the real image in \[0, 1\]"):
        check_inputs("gaussian", in_memory_images=True, data_name="digits", signal=1.5)
    with pytest.raises(UserError, match="data.input_signal=0.5 blends .* data.inputs=gaussian, not none"):
        check_inputs("none", in_memory_images=True, data_name="digits", signal=0.5)
