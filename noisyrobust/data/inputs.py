"""Input corruptions of Zhang et al. 2017's randomization tests ("Understanding deep learning requires
rethinking generalization"), drawn once from a seed like label noise: ``data.inputs=``.

- ``shuffled_pixels``: one random permutation of the pixel positions, the same for every image, train
  and test;
- ``random_pixels``: an independent random permutation for each image;
- ``gaussian``: every pixel drawn from a Gaussian with the training images' per-channel mean and
  variance (float32 on the images' 0-255 scale: neither clipped nor rounded, so the moments hold);
  with ``data.input_signal=f`` in (0, 1], each image is f x + (1 - f) g instead, g that Gaussian draw
  (Badger 2022's blend of real images toward noise; f = 0 is pure noise, f = 1 the real images).
Channels move together: a pixel is a position, as in the paper.
"""
import hashlib
from typing import Optional, Tuple

import numpy as np
import torch

from noisyrobust.errors import UserError

INPUT_CORRUPTIONS = ("none", "shuffled_pixels", "random_pixels", "gaussian")


def check_inputs(kind: str, *, in_memory_images: bool, data_name: str, signal: float = 0.0) -> str:
    """Refuse an unknown corruption, one asked of data whose images are not held in memory, or a signal
    share outside [0, 1] or without Gaussian inputs to blend toward."""
    if not 0.0 <= signal <= 1.0:
        raise UserError(f"data.input_signal={signal} is not a share of the real image in [0, 1]")
    if signal > 0 and kind != "gaussian":
        raise UserError(f"data.input_signal={signal} blends the images toward Gaussian noise: use it with "
                        f"data.inputs=gaussian, not {kind}")
    if kind not in INPUT_CORRUPTIONS:
        raise UserError(f"data.inputs={kind!r} is unknown; choose from: {', '.join(INPUT_CORRUPTIONS)}")
    if kind != "none" and not in_memory_images:
        raise UserError(f"data.inputs={kind} needs image tensors held in memory and data={data_name} is not such "
                        "a dataset (it reads files); use data.inputs=none")
    return kind


def _permute_pixels(images: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """images (N, C, H, W) with pixel positions reordered by ``perm`` ((H*W,) shared or (N, H*W) per image)."""
    n, c, h, w = images.shape
    flat = images.reshape(n, c, h * w)
    index = perm.expand(n, -1) if perm.dim() == 1 else perm
    return flat.gather(2, index[:, None, :].expand(n, c, h * w)).reshape(n, c, h, w)


def _per_image_permutations(n: int, pixels: int, rng: np.random.Generator) -> torch.Tensor:
    return torch.from_numpy(rng.random((n, pixels)).argsort(axis=1))


def corrupt_inputs(kind: str, train: torch.Tensor, test: torch.Tensor, *,
                   rng: np.random.Generator, signal: float = 0.0) -> Tuple[torch.Tensor, torch.Tensor, Optional[np.ndarray]]:
    """The corrupted (train, test) images and the shared permutation (``shuffled_pixels``; else None).

    Train and test are corrupted alike: the shuffled-pixel permutation is one for both (the paper's
    "applied to all images, train and test"); random pixels and Gaussian inputs draw each image anew.
    """
    if kind == "none":
        return train, test, None
    pixels = train.shape[2] * train.shape[3]
    if kind == "shuffled_pixels":
        perm = rng.permutation(pixels)
        p = torch.from_numpy(perm)
        return _permute_pixels(train, p), _permute_pixels(test, p), perm
    if kind == "random_pixels":
        return (_permute_pixels(train, _per_image_permutations(len(train), pixels, rng)),
                _permute_pixels(test, _per_image_permutations(len(test), pixels, rng)), None)
    assert kind == "gaussian", kind
    x = train.double()
    mean = x.mean(dim=(0, 2, 3)).numpy()
    std = x.std(dim=(0, 2, 3)).numpy()

    def draw(shape):
        z = rng.standard_normal(shape).astype(np.float64)
        return torch.from_numpy((mean[None, :, None, None] + std[None, :, None, None] * z).astype(np.float32))

    noise_train, noise_test = draw(tuple(train.shape)), draw(tuple(test.shape))
    if signal == 0:
        return noise_train, noise_test, None
    return (signal * train.float() + (1 - signal) * noise_train, signal * test.float() + (1 - signal) * noise_test,
            None)


def inputs_checksum(images: torch.Tensor) -> str:
    """A short fingerprint of the (corrupted) training images: a run's inputs, named in its summary."""
    return hashlib.sha256(images.contiguous().numpy().tobytes()).hexdigest()[:16]
