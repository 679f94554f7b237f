"""random_crop_flip: torchvision's RandomCrop(size, padding) + RandomHorizontalFlip on a whole batch.
Each output image is the H x W window at offset (dy, dx) in [0, 2p]^2 of the zero-padded image,
mirrored left-right with probability 1/2 when flip is on."""
import math

import numpy as np
import pytest
import torch

from noisyrobust.data.augment import CropSource, draw_crop_flip, random_crop_flip


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


def reference_crop_flip(images, index, dy, dx, mirrored, padding):
    """The crop + flip written out pixel by pixel: out[b, k, i, j] = padded[index[b], k, dy[b] + i, col], with
    col = dx[b] + (W - 1 - j if mirrored[b] else j), padded = images with `padding` zeros on every side."""
    n, c, h, w = images.shape
    padded = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=images.numpy().dtype)
    padded[:, :, padding:padding + h, padding:padding + w] = images.numpy()
    out = np.empty((len(index), c, h, w), dtype=padded.dtype)
    for b, n_b in enumerate(index.tolist()):
        for k in range(c):
            for i in range(h):
                for j in range(w):
                    col = dx[b, 0].item() + (w - 1 - j if mirrored is not None and mirrored[b, 0] else j)
                    out[b, k, i, j] = padded[n_b, k, dy[b, 0].item() + i, col]
    return torch.from_numpy(out)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
@pytest.mark.parametrize("padding,flip", [(4, True), (2, False), (0, True), (3, True)])
def test_crop_source_equals_the_written_out_crop_at_every_given_offset_and_flip(dtype, padding, flip):
    images = (torch.rand(6, 3, 5, 7, generator=gen(20)) * 255 + 1).to(dtype)  # no pixel equals the padding
    source = CropSource(images, padding=padding, flip=flip)
    # every offset pair in [0, 2p]^2, each unflipped and mirrored, for images picked in any order, repeats too
    dy, dx = torch.meshgrid(torch.arange(2 * padding + 1), torch.arange(2 * padding + 1), indexing="ij")
    dy, dx = dy.reshape(-1, 1).repeat(2, 1), dx.reshape(-1, 1).repeat(2, 1)
    mirrored = (torch.arange(len(dy)) >= len(dy) // 2)[:, None] if flip else None
    index = torch.randint(0, len(images), (len(dy),), generator=gen(21))
    out = source.crop(index, dy, dx, mirrored)
    assert out.dtype == dtype and out.shape == (len(index), 3, 5, 7)
    assert torch.equal(out, reference_crop_flip(images, index, dy, dx, mirrored, padding))


@pytest.mark.parametrize("padding,flip", [(4, True), (1, False), (0, True)])
def test_random_crop_flip_is_the_reference_at_dy_dx_then_mirrored_drawn_in_this_order(padding, flip):
    # the random stream: dy = randint(0, 2p + 1, (B, 1)), dx likewise, then mirrored = rand(B, 1) < 1/2
    x = torch.randint(1, 256, (40, 3, 6, 6), generator=gen(22), dtype=torch.uint8)
    g = gen(23)
    dy = torch.randint(0, 2 * padding + 1, (40, 1), generator=g)
    dx = torch.randint(0, 2 * padding + 1, (40, 1), generator=g)
    mirrored = torch.rand(40, 1, generator=g) < 0.5 if flip else None
    expected = reference_crop_flip(x, torch.arange(40), dy, dx, mirrored, padding)
    assert torch.equal(random_crop_flip(x, padding=padding, flip=flip, generator=gen(23)), expected)
    drawn = draw_crop_flip(40, padding=padding, flip=flip, generator=gen(23), device=torch.device("cpu"))
    assert torch.equal(drawn[0], dy) and torch.equal(drawn[1], dx)
    assert (drawn[2] is None) if not flip else torch.equal(drawn[2], mirrored)


def test_crop_source_random_crops_the_selected_images_as_cropping_the_selected_batch_does():
    images = torch.randint(0, 256, (30, 3, 8, 8), generator=gen(24), dtype=torch.uint8)
    index = torch.tensor([29, 0, 7, 7, 15, 3])
    from_source = CropSource(images, padding=4, flip=True).random(index, generator=gen(25))
    assert torch.equal(from_source, random_crop_flip(images[index], padding=4, flip=True, generator=gen(25)))
