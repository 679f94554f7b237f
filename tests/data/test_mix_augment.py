"""FMix's mask, FMix and mixup among a subset, and the colour-only RandAugment of DISC's strong view, against
their written-out definitions."""
import numpy as np
import pytest
import torch

from noisyrobust.data.augment import (COLOR_OPS, _color_ops, fmix, fmix_mask, mixup, permutation_within,
                                      rand_augment)


def gen(seed):
    return torch.Generator().manual_seed(seed)


def numpy_fmix_mask(lam, h, w, decay, spectrum):
    """The paper's recipe in NumPy: low-pass Gaussian spectrum, inverse real FFT, top lam*H*W pixels = 1."""
    fy, fx = np.fft.fftfreq(h)[:, None], np.fft.rfftfreq(w)[None, :]
    scale = 1.0 / np.maximum(np.sqrt(fy ** 2 + fx ** 2), 1.0 / max(h, w)) ** decay
    grey = np.fft.irfftn((spectrum[0] + 1j * spectrum[1]) * scale, s=(h, w)).ravel()
    mask = np.zeros(h * w)
    mask[np.argsort(-grey, kind="stable")[:int(round(lam * h * w))]] = 1
    return mask.reshape(h, w)


@pytest.mark.parametrize("lam, h, w", [(0.3, 8, 8), (0.71, 7, 10)])
def test_fmix_mask_is_the_top_lambda_share_of_low_pass_fourier_noise(lam, h, w):
    mask = fmix_mask(lam, (h, w), decay_power=3.0, generator=gen(5))
    spectrum = torch.randn(2, h, w // 2 + 1, generator=gen(5)).double().numpy()  # the same draws
    assert np.array_equal(mask.numpy(), numpy_fmix_mask(lam, h, w, 3.0, spectrum))
    assert mask.sum() == round(lam * h * w)


def test_fmix_masks_are_smooth_blobs_not_salt_and_pepper():
    """Low frequencies dominate: a mask pixel mostly agrees with its right neighbour (uniform noise: ~1/2)."""
    agree = np.mean([(m[:, 1:] == m[:, :-1]).float().mean().item()
                     for m in (fmix_mask(0.5, (32, 32), generator=gen(s)) for s in range(20))])
    assert agree > 0.85


def test_fmix_takes_the_mask_from_the_image_and_the_rest_from_its_partner():
    x, perm = torch.rand(5, 3, 6, 6, generator=gen(0)), torch.tensor([1, 0, 3, 4, 2])
    mask = fmix_mask(0.4, (6, 6), generator=gen(1))
    out = fmix(x, mask, perm)
    for b in range(5):
        assert torch.allclose(out[b], mask * x[b] + (1 - mask) * x[perm[b]])


def test_permutation_within_pairs_the_subset_among_itself_in_one_cycle():
    mask = torch.tensor([1, 0, 1, 1, 0, 1, 0, 1], dtype=torch.bool)
    for seed in range(10):
        perm = permutation_within(mask, generator=gen(seed))
        assert sorted(perm.tolist()) == list(range(8))  # a permutation
        assert torch.equal(perm[~mask], torch.arange(8)[~mask])  # the rest stay
        assert mask[perm[mask]].all() and (perm[mask] != torch.arange(8)[mask]).all()  # partners in the set
        cycle, i = [], int(mask.nonzero()[0])
        while i not in cycle:
            cycle.append(i)
            i = int(perm[i])
        assert len(cycle) == int(mask.sum())  # one cycle through the whole set


@pytest.mark.parametrize("mask", [[0, 0, 0], [0, 1, 0]])
def test_permutation_within_a_set_of_none_or_one_is_the_identity(mask):
    perm = permutation_within(torch.tensor(mask, dtype=torch.bool), generator=gen(0))
    assert perm.tolist() == [0, 1, 2]


def test_mixup_with_a_given_permutation_mixes_with_those_partners():
    x, t = torch.rand(4, 2, generator=gen(0)), torch.eye(4)
    perm = torch.tensor([2, 1, 0, 3])
    mx, mt, p = mixup(x, t, lam=0.7, perm=perm)
    assert p is perm and torch.allclose(mx, 0.7 * x + 0.3 * x[perm]) and torch.allclose(mt, 0.7 * t + 0.3 * t[perm])


def test_rand_augment_without_geometric_ops_applies_a_colour_op_per_image():
    """DISC's strong view: every image of one round is one of the colour ops at strength ±m/30."""
    x = torch.rand(24, 3, 8, 8, generator=gen(3))
    out = rand_augment(x, num_ops=1, magnitude=5, generator=gen(4), geometric=False)
    g = gen(4)  # the draws: op in COLOR_OPS, then the sign
    op = torch.randint(0, len(COLOR_OPS), (24,), generator=g)
    sign = torch.where(torch.rand(24, generator=g) < 0.5, -1.0, 1.0)
    every = _color_ops(x, sign * 5 / 30)
    for b in range(24):
        assert torch.allclose(out[b], every[op[b], b], atol=1e-6)


@pytest.mark.parametrize("kind", ["strong3", "strong_color"])
def test_a_strong_view_is_its_recipes_rand_augment_then_the_normalization(kind):
    from noisyrobust.data.augment import STRONG_VIEWS
    from noisyrobust.data.loader import BatchTransform
    images = torch.randint(0, 256, (6, 3, 8, 8), generator=gen(0), dtype=torch.uint8)
    mean, std = torch.tensor([0.4, 0.5, 0.6]), torch.tensor([0.2, 0.25, 0.3])
    out = BatchTransform(mean, std, strong=kind).finish(images, gen(1))
    r = STRONG_VIEWS[kind]
    want = rand_augment(images.float() / 255, num_ops=r["num_ops"], magnitude=r["magnitude"], geometric=r["geometric"],
                        generator=gen(1))
    assert torch.allclose(out, (want - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1), atol=1e-5)
