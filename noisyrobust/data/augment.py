"""Augmentation of whole batches on their device: no per-sample Python, no PIL, no host sync.

Every function takes a batch (B, C, H, W) and a ``torch.Generator`` on the batch's device and draws all
its random numbers from it, so the same seed gives the same batch. ``random_crop_flip`` works on any
dtype (uint8 is cheapest: a quarter of the memory traffic of float32); the strong augmentations
(``rand_augment``, ``cutout``, ``mixup``) work on float images in [0, 1] or, for ``cutout`` and
``mixup``, on normalized ones.
"""
import functools
import math
from typing import Optional

import torch
import torch.nn.functional as F


def draw_crop_flip(n: int, *, padding: int, flip: bool, generator: torch.Generator, device: torch.device):
    """The random draws of RandomCrop(padding) + RandomHorizontalFlip for ``n`` images, in this order from
    ``generator``: row offsets dy, then column offsets dx, uniform in [0, 2 * padding] (each (n, 1)), then, if
    ``flip``, mirrored = U(0, 1) < 1/2 ((n, 1) bool; None without ``flip``)."""
    dy = torch.randint(0, 2 * padding + 1, (n, 1), device=device, generator=generator)
    dx = torch.randint(0, 2 * padding + 1, (n, 1), device=device, generator=generator)
    mirrored = torch.rand(n, 1, device=device, generator=generator) < 0.5 if flip else None
    return dy, dx, mirrored


@functools.lru_cache(maxsize=16)
def _run_starts(padding: int, c: int, h: int, w: int, device: torch.device) -> torch.Tensor:
    """Where each output row's run starts within a CropSource block, for every (dy, dx, mirrored) as the row
    (dy * (2p + 1) + dx) * 2 + mirrored: ((2p + 1)^2 * 2, C * H)."""
    row, offset = w + padding, torch.arange(2 * padding + 1)
    dy, dx = offset.view(-1, 1, 1, 1, 1), offset.view(1, -1, 1, 1, 1)
    mirrored = torch.arange(2).view(1, 1, -1, 1, 1).bool()
    channel, i = torch.arange(c).view(1, 1, 1, -1, 1), torch.arange(h).view(1, 1, 1, 1, -1)
    source_row = dy - padding + i
    starts = (channel * h + source_row) * row + padding + torch.where(mirrored, padding - dx, dx - padding)
    inside = (source_row >= 0) & (source_row < h)
    return torch.where(inside, starts, c * h * row).view(-1, c * h).to(device)  # outside: the closing zeros


class CropSource:
    """A set of images (N, C, H, W), any dtype, laid out once so that a crop + flip of any batch of them is two
    ``index_select`` of contiguous runs: no padded copy and no per-pixel index per batch.

    The crop of image n at offset (dy, dx) of its zero-padded copy (padding p), mirrored or not, has output
    pixel (i, j) = padded[n, :, dy + i, dx + (W - 1 - j if mirrored else j)]. Each image is stored as a block,
    as it is and (with ``flip``) mirrored, every row preceded by p zeros (the zeros after a row are the next
    row's) and the block ending in W + p zeros. A batch first copies its images' blocks (whole blocks: memcpy
    speed, and the second step then reads from cache); output row i is then the run of W elements starting
    at the block's row dy + i - p shifted by dx - p (mirrored: p - dx), or the block's closing zeros where that
    row lies in the padding. Memory: (2 with ``flip``) x about (W + p) / W times the images.
    """

    def __init__(self, images: torch.Tensor, *, padding: int, flip: bool):
        n, c, h, w = images.shape
        self.padding, self.flip, self.num_images, self.shape = padding, flip, n, (c, h, w)
        row = w + padding  # one stored row and the p zeros before it
        zeros = c * h * row  # where a block's closing W + p zeros start
        self.blocks = images.new_zeros((2 if flip else 1) * n, zeros + w + padding)
        stored = self.blocks[:, :zeros].view(-1, c, h, row)[..., padding:]
        stored[:n] = images
        if flip:
            stored[n:] = images.flip(3)
        self.starts = _run_starts(padding, c, h, w, images.device)

    def crop(self, index: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor,
             mirrored: Optional[torch.Tensor]) -> torch.Tensor:
        """Images ``index`` (B,) cropped at offsets ``dy``, ``dx`` ((B, 1) in [0, 2p]), mirrored where
        ``mirrored`` ((B, 1) bool, or None: none): (B, C, H, W)."""
        c, h, w = self.shape
        b, length = len(index), self.blocks.shape[1]
        case = (dy * (2 * self.padding + 1) + dx) * 2  # row of self.starts
        if mirrored is not None:
            case = case + mirrored
            index = index + mirrored.view(-1) * self.num_images
        blocks = self.blocks.index_select(0, index)  # (B, block length)
        block_start = torch.arange(0, b * length, length, device=index.device)[:, None]
        starts = self.starts.index_select(0, case.view(-1)) + block_start  # (B, C * H)
        return blocks.view(-1).unfold(0, w, 1).index_select(0, starts.view(-1)).view(b, c, h, w)

    def random(self, index: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        """Images ``index`` with a random crop + flip each, drawn by ``draw_crop_flip``."""
        draws = draw_crop_flip(len(index), padding=self.padding, flip=self.flip, generator=generator,
                               device=index.device)
        return self.crop(index, *draws)


def random_crop_flip(x: torch.Tensor, *, padding: int, flip: bool, generator: torch.Generator) -> torch.Tensor:
    """torchvision's RandomCrop(size, padding) + RandomHorizontalFlip for the whole batch ``x`` (B, C, H, W):
    each image cropped at offsets (dy, dx) in [0, 2 * padding] of its zero-padded copy and mirrored with
    probability 1/2 (``draw_crop_flip``; ``CropSource`` says how). For many batches of one set, build a
    ``CropSource`` of the set once instead."""
    if padding == 0 and not flip:
        return x.contiguous()
    return CropSource(x, padding=padding, flip=flip).random(torch.arange(len(x), device=x.device),
                                                            generator=generator)


def cutout(x: torch.Tensor, *, size: int, generator: torch.Generator, fill: float = 0.0) -> torch.Tensor:
    """Cutout (DeVries & Taylor 2017): each image gets one ``size`` x ``size`` square set to ``fill``,
    centred at a uniformly drawn pixel (the square is clipped at the borders), as the paper's code does."""
    b, _, h, w = x.shape
    cy = torch.randint(0, h, (b, 1, 1), device=x.device, generator=generator)
    cx = torch.randint(0, w, (b, 1, 1), device=x.device, generator=generator)
    ys, xs = torch.arange(h, device=x.device)[:, None], torch.arange(w, device=x.device)[None, :]
    lo = size // 2
    inside = (ys >= cy - lo) & (ys < cy - lo + size) & (xs >= cx - lo) & (xs < cx - lo + size)  # (B, H, W)
    return x.masked_fill(inside[:, None], fill)


def mixup(x: torch.Tensor, targets: torch.Tensor, *, lam: float, generator: Optional[torch.Generator] = None,
          perm: Optional[torch.Tensor] = None):
    """mixup (Zhang et al. 2018) with partners from one random permutation of the batch:
    x' = lam * x + (1 - lam) * x[perm], t' = lam * t + (1 - lam) * t[perm], ``targets`` being per-sample
    class distributions (B, K) (one-hot labels or soft ones). Returns (x', t', perm). ``lam`` is one
    draw of Beta(alpha, alpha) for the batch (``mixup_lambda``); ``perm`` given (e.g. ``permutation_within``
    a subset) or drawn from ``generator``."""
    if perm is None:
        perm = torch.randperm(len(x), device=x.device, generator=generator)
    return torch.lerp(x[perm], x, lam), torch.lerp(targets[perm].to(targets.dtype), targets, lam), perm


def permutation_within(mask: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
    """A permutation of the batch that maps the rows of ``mask`` (B,) among themselves and fixes the others:
    mixup "among the selected samples" (ProMix, DISC) without cutting the batch on the host. The rows of
    ``mask`` in a uniformly random order o_0 .. o_{n-1} each take the next as partner, perm[o_j] = o_{(j+1) mod n}
    (one random cycle: with n >= 2 no row of the set is its own partner)."""
    b = len(mask)
    key = torch.rand(b, device=mask.device, generator=generator) + (~mask).float() * 2  # the set first, shuffled
    order = key.argsort()
    n, j = mask.sum(), torch.arange(b, device=mask.device)
    nxt = torch.where(j < n, (j + 1) % n.clamp(min=1), j)
    perm = torch.empty_like(order)
    perm[order] = order[nxt]
    return perm


def fmix_mask(lam: float, size: tuple, *, decay_power: float = 3.0, generator: torch.Generator,
              device: Optional[torch.device] = None) -> torch.Tensor:
    """FMix's binary mask (Harris et al. 2020, "FMix: Enhancing Mixed Sample Data Augmentation"), one for the
    batch: a complex Gaussian spectrum Z(f) ~ N(0, 1) + i N(0, 1) on the real-FFT frequencies of an (H, W)
    image, low-pass filtered as Z(f) / max(|f|, 1/max(H, W))^decay_power, back to the image by the inverse
    real FFT; the round(lam H W) pixels of largest value are 1, the others 0. (H, W) float."""
    h, w = size
    fy, fx = torch.fft.fftfreq(h, device=device)[:, None], torch.fft.rfftfreq(w, device=device)[None, :]
    scale = 1.0 / torch.sqrt(fy ** 2 + fx ** 2).clamp(min=1.0 / max(h, w)) ** decay_power
    spectrum = torch.randn(2, *scale.shape, device=device, generator=generator) * scale
    grey = torch.fft.irfftn(torch.complex(spectrum[0], spectrum[1]), s=(h, w)).flatten()
    mask = torch.zeros(h * w, device=device)
    mask[grey.argsort(descending=True)[:int(round(lam * h * w))]] = 1.0
    return mask.view(h, w)


def fmix(x: torch.Tensor, mask: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """FMix's mixed batch: x' = mask * x + (1 - mask) * x[perm] (``mask`` from ``fmix_mask``, broadcast over
    the batch and the channels); its loss is lam CE(x', y) + (1 - lam) CE(x', y[perm])."""
    return torch.lerp(x[perm], x, mask.to(x.dtype))


def mixup_lambda(alpha: float, generator: torch.Generator, *, larger: bool = False) -> float:
    """One draw of Beta(alpha, alpha) from a CPU ``generator`` (a host number: no device sync), via
    the ratio of two Gamma draws; ``larger``: max(lam, 1 - lam), as DivideMix mixes."""
    g = torch._standard_gamma(torch.full((2,), float(alpha)), generator=generator)
    lam = float(g[0] / g.sum())
    return max(lam, 1.0 - lam) if larger else lam


# -- RandAugment (Cubuk et al. 2020) on whole batches ----------------------------------------------------
# Each image draws its own op per round; every op is computed for the whole batch and each image keeps the
# result of its own draw (cheap for small images on a GPU, and free of host syncs). Magnitudes scale
# linearly with m / 30 as in the paper's reference, with a random sign where the op has a direction.
COLOR_OPS = ("identity", "autocontrast", "equalize", "brightness", "color", "contrast", "sharpness", "posterize",
             "solarize", "invert")
GEOMETRIC_OPS = ("rotate", "shear_x", "shear_y", "translate_x", "translate_y")
RAND_AUGMENT_OPS = COLOR_OPS + GEOMETRIC_OPS


def _gray(x: torch.Tensor) -> torch.Tensor:
    if x.shape[1] != 3:
        return x.mean(1, keepdim=True)
    return (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])


def _equalize(x: torch.Tensor) -> torch.Tensor:
    """Histogram equalization of each image and channel over 256 levels, PIL's ImageOps.equalize: with
    step = (pixels - count of the highest level present) // 255, level v maps to
    min((pixels below v + step // 2) // step, 255); a channel with step 0 is left as it is."""
    b, c, h, w = x.shape
    levels = (x * 255).round().long().clamp(0, 255).view(b * c, h * w)
    hist = torch.zeros(b * c, 256, device=x.device, dtype=torch.long)
    hist.scatter_add_(1, levels, torch.ones_like(levels))
    step = (h * w - hist.gather(1, levels.amax(1, keepdim=True))) // 255
    lut = ((hist.cumsum(1) - hist + step // 2) // step.clamp(min=1)).clamp(max=255)
    out = torch.where(step > 0, lut.gather(1, levels), levels)
    return (out.float() / 255).view(b, c, h, w)


def _color_ops(x: torch.Tensor, strength: torch.Tensor) -> torch.Tensor:
    """Every color op of the batch at per-image ``strength`` in [-1, 1]: (len(COLOR_OPS), B, C, H, W)."""
    s = strength.view(-1, 1, 1, 1)
    factor = 1.0 + 0.9 * s  # enhance factors in [0.1, 1.9], 1 = unchanged
    lo, hi = x.amin((2, 3), keepdim=True), x.amax((2, 3), keepdim=True)
    gray = _gray(x)
    blurred = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"),
                       x.new_tensor([[1, 1, 1], [1, 5, 1], [1, 1, 1]]).div(13).expand(x.shape[1], 1, 3, 3),
                       groups=x.shape[1])  # PIL's SMOOTH kernel
    bits = (8 - (4 * s.abs()).round()).clamp(4, 8)  # posterize to 4..8 bits
    step = 2 ** (8 - bits)
    return torch.stack([
        x,
        torch.where(hi > lo, (x - lo) / (hi - lo).clamp(min=1e-6), x),
        _equalize(x),
        x * factor,
        torch.lerp(gray.expand_as(x), x, factor),
        torch.lerp(gray.mean((2, 3), keepdim=True).expand_as(x), x, factor),
        torch.lerp(blurred, x, factor),
        torch.floor(x * 255 / step) * step / 255,
        torch.where(x >= 1 - s.abs(), 1 - x, x),  # solarize above the threshold 1 - |s|
        1 - x,
    ]).clamp_(0, 1)


def _affine(x: torch.Tensor, op: torch.Tensor, strength: torch.Tensor, fill: float) -> torch.Tensor:
    """Rotate (up to 30 degrees), shear (up to 0.3) or translate (up to 45% of the side) each image by its
    op (an index into GEOMETRIC_OPS, or -1: unchanged), all in one ``grid_sample``."""
    b = len(x)
    theta = torch.zeros(b, 2, 3, device=x.device)
    angle = strength * math.radians(30)
    rotate, sx, sy, tx, ty = (op == i for i in range(len(GEOMETRIC_OPS)))
    cos, sin = torch.where(rotate, angle.cos(), 1.0), torch.where(rotate, angle.sin(), 0.0)
    theta[:, 0, 0], theta[:, 1, 1] = cos, cos
    theta[:, 0, 1] = -sin + torch.where(sx, 0.3 * strength, 0.0)
    theta[:, 1, 0] = sin + torch.where(sy, 0.3 * strength, 0.0)
    theta[:, 0, 2] = torch.where(tx, 0.9 * strength, 0.0)  # grid units: 2 = the full side
    theta[:, 1, 2] = torch.where(ty, 0.9 * strength, 0.0)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x - fill, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out + fill  # pixels from outside the image take ``fill``


def rand_augment(x: torch.Tensor, *, num_ops: int = 2, magnitude: float = 10.0, generator: torch.Generator,
                 fill: float = 0.5, geometric: bool = True) -> torch.Tensor:
    """RandAugment on a float batch in [0, 1]: ``num_ops`` rounds; in each, every image applies one op drawn
    uniformly from RAND_AUGMENT_OPS (COLOR_OPS without ``geometric``: DISC's strong view) at strength
    ±``magnitude``/30 (sign drawn per image). Geometric ops fill uncovered pixels with ``fill``."""
    b, dev = len(x), x.device
    num_choices = len(RAND_AUGMENT_OPS) if geometric else len(COLOR_OPS)
    for _ in range(num_ops):
        op = torch.randint(0, num_choices, (b,), device=dev, generator=generator)
        sign = torch.where(torch.rand(b, device=dev, generator=generator) < 0.5, -1.0, 1.0)
        strength = sign * min(magnitude / 30.0, 1.0)
        colored = _color_ops(x, strength)
        pick = op.clamp(max=len(COLOR_OPS) - 1).view(1, b, 1, 1, 1).expand(1, *x.shape)
        colored = colored.gather(0, pick)[0]
        x = colored if not geometric else torch.where((op < len(COLOR_OPS)).view(b, 1, 1, 1), colored,
                                                      _affine(x, op - len(COLOR_OPS), strength, fill))
    return x


# The strong views a method asks for (stages.views.kinds), each after the view's crop + flip: RandAugment's
# rounds, magnitude and op set, then Cutout of half the side (on the normalized image) or none.
STRONG_VIEWS = {
    "strong": dict(num_ops=2, magnitude=10.0, geometric=True, cutout=True),  # SOP+ (Liu et al. 2022)
    "strong3": dict(num_ops=3, magnitude=5.0, geometric=True, cutout=False),  # ProMix: RandAugment(3, 5)
    "strong_color": dict(num_ops=2, magnitude=5.0, geometric=False, cutout=False),  # DISC: no geometric ops
}
