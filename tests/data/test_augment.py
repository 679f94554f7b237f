"""random_crop_flip: torchvision's RandomCrop(size, padding) + RandomHorizontalFlip on a whole batch.
Each output image is the H x W window at offset (dy, dx) in [0, 2p]^2 of the zero-padded image,
mirrored left-right with probability 1/2 when flip is on."""
import math

import pytest
import torch

from noisyrobust.data.augment import random_crop_flip


def gen(seed):
    return torch.Generator().manual_seed(seed)


def all_candidates(x, padding):
    """Every crop of the zero-padded batch, unflipped and mirrored, by plain slicing.
    Returns (B, K, C, H, W) and the list of K (dy, dx, mirrored) tuples."""
    b, c, h, w = x.shape
    padded = torch.zeros(b, c, h + 2 * padding, w + 2 * padding, dtype=x.dtype)
    padded[:, :, padding:padding + h, padding:padding + w] = x
    crops, keys = [], []
    for dy in range(2 * padding + 1):
        for dx in range(2 * padding + 1):
            crop = padded[:, :, dy:dy + h, dx:dx + w]
            crops.append(crop)
            keys.append((dy, dx, False))
            crops.append(torch.flip(crop, dims=[3]))
            keys.append((dy, dx, True))
    return torch.stack(crops, dim=1), keys


def matches(out, x, padding):
    """(B, K) bool: which candidate each output image equals exactly."""
    cands, keys = all_candidates(x, padding)
    eq = (cands == out[:, None]).flatten(2).all(dim=2)
    return eq, keys


def test_every_output_is_a_crop_of_the_zero_padded_input_optionally_mirrored():
    x = torch.rand(8, 3, 6, 7, generator=gen(0)) + 0.1  # distinct values, none equal to the zero padding
    out = random_crop_flip(x, padding=2, flip=True, generator=gen(1))
    assert out.shape == x.shape and out.dtype == x.dtype
    eq, _ = matches(out, x, 2)
    # exactly one (offset, mirror) explains each image: distinct random pixels make crops unique
    assert eq.sum(dim=1).tolist() == [1] * 8


def test_padding_zero_and_no_flip_is_identity():
    x = torch.rand(5, 3, 4, 4, generator=gen(2))
    out = random_crop_flip(x, padding=0, flip=False, generator=gen(3))
    assert torch.equal(out, x)


def test_no_flip_never_mirrors():
    x = torch.rand(200, 1, 5, 5, generator=gen(4)) + 0.1
    out = random_crop_flip(x, padding=1, flip=False, generator=gen(5))
    eq, keys = matches(out, x, 1)
    assert eq.sum(dim=1).eq(1).all()
    assert not any(keys[k][2] for k in eq.float().argmax(dim=1).tolist())


def test_flip_only_gives_the_image_or_its_mirror():
    x = torch.rand(100, 2, 4, 5, generator=gen(6))
    out = random_crop_flip(x, padding=0, flip=True, generator=gen(7))
    same = (out == x).flatten(1).all(1)
    mirrored = (out == x.flip(3)).flatten(1).all(1)
    assert (same ^ mirrored).all()
    assert same.any() and mirrored.any()


def test_flips_occur_about_half_the_time_and_offsets_cover_the_whole_range():
    n, p = 4000, 2
    x = torch.rand(n, 1, 5, 5, generator=gen(8)) + 0.1
    out = random_crop_flip(x, padding=p, flip=True, generator=gen(9))
    eq, keys = matches(out, x, p)
    assert eq.sum(dim=1).eq(1).all()
    chosen = [keys[k] for k in eq.float().argmax(dim=1).tolist()]
    share_flipped = sum(f for _, _, f in chosen) / n
    assert abs(share_flipped - 0.5) <= 4 * math.sqrt(0.25 / n)
    # each offset value 0..2p has probability 1/(2p+1) on each axis
    q = 1 / (2 * p + 1)
    for axis in (0, 1):
        values = [c[axis] for c in chosen]
        assert set(values) == set(range(2 * p + 1))
        for v in range(2 * p + 1):
            assert abs(values.count(v) / n - q) <= 4 * math.sqrt(q * (1 - q) / n)
    assert len({(dy, dx) for dy, dx, _ in chosen}) == (2 * p + 1) ** 2


def test_same_generator_seed_gives_same_output_and_other_seed_differs():
    x = torch.rand(64, 3, 8, 8, generator=gen(10))
    a = random_crop_flip(x, padding=4, flip=True, generator=gen(123))
    b = random_crop_flip(x, padding=4, flip=True, generator=gen(123))
    c = random_crop_flip(x, padding=4, flip=True, generator=gen(124))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("padding,flip", [(0, True), (3, False), (4, True)])
def test_input_batch_is_not_modified(padding, flip):
    x = torch.rand(6, 3, 8, 8, generator=gen(11))
    before = x.clone()
    random_crop_flip(x, padding=padding, flip=flip, generator=gen(12))
    assert torch.equal(x, before)
