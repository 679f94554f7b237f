"""Strong augmentation on whole batches: Cutout, mixup and RandAugment's ops, against their written-out
definitions (and PIL's ImageOps where it defines the op)."""
import math

import numpy as np
import pytest
import torch
from PIL import Image, ImageOps

from noisyrobust.data.augment import (COLOR_OPS, GEOMETRIC_OPS, RAND_AUGMENT_OPS, _affine, _color_ops, cutout,
                                      mixup, mixup_lambda, rand_augment)


def gen(seed):
    return torch.Generator().manual_seed(seed)


def test_cutout_zeroes_one_clipped_square_per_image():
    x = torch.rand(16, 3, 9, 9, generator=gen(0)) + 0.1  # no pixel is 0 before
    out = cutout(x, size=4, generator=gen(1))
    for b in range(16):
        zero = (out[b] == 0).all(0)
        assert ((out[b] == x[b]) | (out[b] == 0)).all()
        # some centre (cy, cx) explains the zeroed pixels: rows cy-2 .. cy+1, cols cx-2 .. cx+1, clipped
        found = False
        for cy in range(9):
            for cx in range(9):
                want = torch.zeros(9, 9, dtype=torch.bool)
                want[max(cy - 2, 0):cy + 2, max(cx - 2, 0):cx + 2] = True
                found |= torch.equal(zero, want)
        assert found, b


def test_cutout_fill_value_and_same_seed_same_output():
    x = torch.rand(4, 1, 6, 6, generator=gen(2))
    a, b = cutout(x, size=3, generator=gen(3), fill=-1.0), cutout(x, size=3, generator=gen(3), fill=-1.0)
    assert torch.equal(a, b) and (a == -1.0).any() and not (x == -1.0).any()


def test_mixup_is_the_convex_combination_with_the_permuted_batch():
    x = torch.rand(10, 3, 4, 4, generator=gen(4))
    t = torch.nn.functional.one_hot(torch.arange(10) % 3, 3).float()
    mixed, targets, perm = mixup(x, t, lam=0.7, generator=gen(5))
    assert sorted(perm.tolist()) == list(range(10))
    torch.testing.assert_close(mixed, 0.7 * x + 0.3 * x[perm])
    torch.testing.assert_close(targets, 0.7 * t + 0.3 * t[perm])
    torch.testing.assert_close(targets.sum(1), torch.ones(10))


def test_mixup_lambda_follows_beta_alpha_alpha():
    g, alpha, n = gen(6), 0.75, 4000
    draws = np.array([mixup_lambda(alpha, g) for _ in range(n)])
    var = 1 / (4 * (2 * alpha + 1))  # of Beta(a, a), mean 1/2
    assert abs(draws.mean() - 0.5) <= 4 * math.sqrt(var / n)
    assert abs(draws.var() - var) <= 0.1 * var
    assert min(mixup_lambda(alpha, g, larger=True) for _ in range(200)) >= 0.5


def ops_at(x, strength):
    out = _color_ops(x, torch.full((len(x),), strength))
    return {name: out[i] for i, name in enumerate(COLOR_OPS)}


def test_color_ops_match_their_definitions():
    x = torch.randint(0, 256, (3, 3, 8, 8), generator=gen(7)).float() / 255
    s = 1 / 3  # magnitude 10 of 30
    ops = ops_at(x, s)
    torch.testing.assert_close(ops["identity"], x)
    torch.testing.assert_close(ops["invert"], 1 - x)
    torch.testing.assert_close(ops["brightness"], (x * 1.3).clamp(0, 1))
    torch.testing.assert_close(ops["solarize"], torch.where(x >= 2 / 3, 1 - x, x))
    torch.testing.assert_close(ops["posterize"], torch.floor(x * 255 / 2) * 2 / 255)  # 7 bits
    lo, hi = x.amin((2, 3), keepdim=True), x.amax((2, 3), keepdim=True)
    torch.testing.assert_close(ops["autocontrast"], (x - lo) / (hi - lo))
    gray = 0.299 * x[:, :1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:]
    torch.testing.assert_close(ops["color"], (gray + 1.3 * (x - gray)).clamp(0, 1))


def test_equalize_equals_pil():
    img = torch.randint(40, 140, (2, 3, 32, 32), generator=gen(8), dtype=torch.uint8)
    ours = (ops_at(img.float() / 255, 0.3)["equalize"] * 255).round().to(torch.uint8)
    for b in range(2):
        pil = np.asarray(ImageOps.equalize(Image.fromarray(img[b].permute(1, 2, 0).numpy())))
        np.testing.assert_array_equal(ours[b].permute(1, 2, 0).numpy(), pil)


def test_translate_x_shifts_by_whole_pixels_and_fills():
    x = torch.rand(2, 1, 8, 8, generator=gen(9))
    op = torch.full((2,), GEOMETRIC_OPS.index("translate_x"))
    out = _affine(x, op, torch.full((2,), 5 / 18), fill=0.5)  # 0.9 * 5/18 of the half-width 4 = 1 pixel
    torch.testing.assert_close(out[..., :7], x[..., 1:], atol=1e-5, rtol=0)
    torch.testing.assert_close(out[..., 7], torch.full_like(out[..., 7], 0.5), atol=1e-5, rtol=0)


def test_rotation_keeps_a_radially_symmetric_image_and_shear_x_keeps_the_centre_row():
    ys, xs = torch.meshgrid(torch.arange(17.0) - 8, torch.arange(17.0) - 8, indexing="ij")
    disk = torch.exp(-(ys ** 2 + xs ** 2) / 20)[None, None]
    rotated = _affine(disk, torch.tensor([GEOMETRIC_OPS.index("rotate")]), torch.tensor([1.0]), fill=0.0)
    assert (rotated - disk)[..., 4:13, 4:13].abs().max() < 0.03  # bilinear resampling error only
    x = torch.rand(1, 1, 9, 9, generator=gen(10))
    sheared = _affine(x, torch.tensor([GEOMETRIC_OPS.index("shear_x")]), torch.tensor([1.0]), fill=0.0)
    torch.testing.assert_close(sheared[..., 4, :], x[..., 4, :], atol=1e-5, rtol=0)
    assert not torch.allclose(sheared[..., 0, :], x[..., 0, :])


def test_rand_augment_applies_a_drawn_op_per_image_and_round():
    x = torch.rand(512, 3, 8, 8, generator=gen(11))
    out = rand_augment(x, num_ops=1, magnitude=9, generator=gen(12))
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    assert torch.equal(out, rand_augment(x, num_ops=1, magnitude=9, generator=gen(12)))
    unchanged = (out == x).flatten(1).all(1).float().mean().item()
    p = 1 / len(RAND_AUGMENT_OPS)  # identity is drawn with this probability; every other op changes the image
    assert abs(unchanged - p) <= 4 * math.sqrt(p * (1 - p) / 512)


@pytest.mark.parametrize("num_ops", [0, 2])
def test_rand_augment_rounds(num_ops):
    x = torch.rand(4, 1, 8, 8, generator=gen(13))
    out = rand_augment(x, num_ops=num_ops, generator=gen(14))
    assert torch.equal(out, x) == (num_ops == 0)
