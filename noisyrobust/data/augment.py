"""Augmentation of whole batches on their device: no per-sample Python, no PIL."""
import torch
import torch.nn.functional as F


def random_crop_flip(x: torch.Tensor, *, padding: int, flip: bool, generator: torch.Generator) -> torch.Tensor:
    """Random crop of each image from its zero-padded copy (offsets in [0, 2*padding]) and, if ``flip``,
    a horizontal flip with probability 1/2 — torchvision's RandomCrop(size, padding) + RandomHorizontalFlip,
    done for the whole batch ``x`` of shape (B, C, H, W) with one gather."""
    b, _, h, w = x.shape
    if padding > 0:
        padded = F.pad(x, (padding, padding, padding, padding))
        dy = torch.randint(0, 2 * padding + 1, (b,), device=x.device, generator=generator)
        dx = torch.randint(0, 2 * padding + 1, (b,), device=x.device, generator=generator)
        rows = (dy[:, None] + torch.arange(h, device=x.device))[:, :, None]  # (B, H, 1)
        cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, :]  # (B, 1, W)
        batch = torch.arange(b, device=x.device)[:, None, None]
        x = padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)
    if flip:
        mirror = torch.rand(b, device=x.device, generator=generator) < 0.5
        x = torch.where(mirror[:, None, None, None], x.flip(3), x)
    return x.contiguous()


# -- strong augmentation (SOP+'s strong view): RandAugment-style ops and Cutout on whole batches ---------------
# (a minimal set written for issue 11; the speed work may replace it with its own batch functions)
def _affine(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="zeros", align_corners=False)


def rand_augment(x: torch.Tensor, *, num_ops: int = 2, magnitude: float = 0.5,
                 generator: torch.Generator) -> torch.Tensor:
    """RandAugment on images in [0, 1], (B, C, H, W): ``num_ops`` layers, each applying to every image one
    op drawn uniformly from identity, autocontrast, brightness, contrast, solarize, posterize, rotate (up to
    30°), shear-x (0.3), translate-x/y (30% of the side), at ``magnitude`` in [0, 1] with a random sign."""
    b, dev = x.shape[0], x.device
    for _ in range(num_ops):
        op = torch.randint(0, 10, (b,), device=dev, generator=generator)
        sign = torch.where(torch.rand(b, device=dev, generator=generator) < 0.5, -1.0, 1.0)
        m = magnitude * sign
        col = lambda t: t[:, None, None, None]  # noqa: E731
        lo, hi = x.amin((1, 2, 3), keepdim=True), x.amax((1, 2, 3), keepdim=True)
        mean = x.mean((1, 2, 3), keepdim=True)
        levels = 2.0 ** round(8 - 4 * magnitude)  # posterize to 8 - 4m bits
        pixel = [x, (x - lo) / (hi - lo).clamp(min=1e-3), x * col(1 + 0.9 * m), mean + (x - mean) * col(1 + 0.9 * m),
                 torch.where(x >= 1 - 0.5 * magnitude, 1 - x, x), torch.floor(x * levels) / levels]
        out = x
        for k, y in enumerate(pixel[1:], start=1):
            out = torch.where(col(op == k), y, out)
        # geometric ops (6..9) in one affine resampling
        angle = torch.where(op == 6, m * 30 * torch.pi / 180, torch.zeros_like(m))
        shear = torch.where(op == 7, 0.3 * m, torch.zeros_like(m))
        tx = torch.where(op == 8, 0.6 * m, torch.zeros_like(m))
        ty = torch.where(op == 9, 0.6 * m, torch.zeros_like(m))
        theta = torch.stack([torch.stack([angle.cos(), -angle.sin() + shear, tx], 1),
                             torch.stack([angle.sin(), angle.cos(), ty], 1)], 1)
        x = torch.where(col(op >= 6), _affine(out, theta), out).clamp(0, 1)
    return x


def cutout(x: torch.Tensor, *, size: int, generator: torch.Generator) -> torch.Tensor:
    """Cutout (DeVries & Taylor 2017): a ``size`` x ``size`` square (clipped at the border) centred at a
    uniform pixel of each image set to 0."""
    b, _, h, w = x.shape
    cy = torch.randint(0, h, (b,), device=x.device, generator=generator)[:, None, None]
    cx = torch.randint(0, w, (b,), device=x.device, generator=generator)[:, None, None]
    rows, cols = torch.arange(h, device=x.device)[None, :, None], torch.arange(w, device=x.device)[None, None, :]
    hole = ((rows - cy).abs() * 2 < size) & ((cols - cx).abs() * 2 < size)
    return x * (~hole)[:, None].to(x.dtype)
