"""Batches drawn from tensors that already live on the training device."""
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import torch

from noisyrobust.data.augment import STRONG_VIEWS, CropSource, cutout, rand_augment, random_crop_flip


@dataclass
class BatchTransform:
    """uint8 images (float32 on the 0-255 scale: data.inputs=gaussian) -> optional crop + flip -> float in
    [0, 1], per-channel normalized:
    x = images / 255 (- mean) / std, computed as one fused images * scale + shift."""

    mean: Optional[torch.Tensor] = None  # (C,)
    std: Optional[torch.Tensor] = None
    crop_padding: int = 0
    flip: bool = False
    strong: str = ""  # a strong view (augment.STRONG_VIEWS): RandAugment on [0, 1] after the crop, Cutout last or none

    def __post_init__(self):
        self._affine: dict = {}  # device -> (scale, shift), moved once rather than every batch

    def _scale_shift(self, device: torch.device):
        if device not in self._affine:
            if self.mean is None:
                scale, shift = torch.full((1,), 1 / 255.0), torch.zeros(1)
            else:
                scale, shift = 1 / (255.0 * self.std.double()), -self.mean.double() / self.std.double()
            self._affine[device] = tuple(t.float().view(1, -1, 1, 1).to(device) for t in (scale, shift))
        return self._affine[device]

    @property
    def crops(self) -> bool:
        return self.crop_padding > 0 or self.flip

    def __call__(self, images: torch.Tensor, generator: Optional[torch.Generator]) -> torch.Tensor:
        if generator is not None and self.crops:
            images = random_crop_flip(images, padding=self.crop_padding, flip=self.flip, generator=generator)
        return self.finish(images, generator)

    def finish(self, images: torch.Tensor, generator: Optional[torch.Generator]) -> torch.Tensor:
        """Everything after the crop + flip: the strong augmentations (with ``generator``), the normalization."""
        scale, shift = self._scale_shift(images.device)
        if self.strong and generator is not None:
            recipe = STRONG_VIEWS[self.strong]
            x = rand_augment(images.float() / 255.0, num_ops=recipe["num_ops"], magnitude=recipe["magnitude"],
                             geometric=recipe["geometric"], generator=generator) * 255.0
            x = x.mul_(scale).add_(shift)
            return cutout(x, size=max(1, images.shape[-1] // 2), generator=generator) if recipe["cutout"] else x
        # in place on a fresh copy: addcmul(shift, x, scale) with broadcast operands is 2-3x slower on a CPU
        return images.to(torch.float32, copy=True).mul_(scale).add_(shift)


class FusedBatches(tuple):
    """Consecutive training batches handed to one call of the training step, which runs one optimizer
    step on each in turn (``fused_steps``): Lightning's per-call machinery is paid once for all of them."""


class TensorBatches:
    """Iterable of ``(x, label, index)`` batches over the samples ``indices`` of ``images``/``labels``.

    With ``views`` (several transforms), training batches hold a tuple of views of the same images.
    Shuffled batches follow a permutation drawn from ``seed`` and the current epoch alone, so a resumed
    run and every DDP rank see the same order; ``batch_size`` is the global batch and rank ``r`` of
    ``world_size`` takes the r-th slice of each. Unshuffled (evaluation) batches shard the samples
    across ranks so every sample is scored exactly once. ``index`` is the global dataset index.
    With ``fuse`` K > 1, training batches come K at a time as one ``FusedBatches`` (the last one shorter
    when the epoch's batches are not a multiple of K); ``batches_per_epoch`` still counts single batches.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, indices: torch.Tensor, *,
                 batch_size: int, transform: BatchTransform, shuffle: bool, drop_last: bool = False,
                 augment: bool = False, seed: int = 0, epoch: Callable[[], int] = lambda: 0,
                 rank: int = 0, world_size: int = 1, views: Sequence[BatchTransform] = (), fuse: int = 1):
        assert batch_size % world_size == 0, "the global batch must split evenly over the ranks"
        self.images, self.labels, self.indices = images, labels, indices.to(images.device)
        self.batch_size, self.transform, self.shuffle = batch_size, transform, shuffle
        self.drop_last, self.augment, self.seed, self.epoch = drop_last, augment, seed, epoch
        self.rank, self.world_size = rank, world_size
        self.views = list(views)  # several: x is a tuple of views of the batch, each its own random draw
        self._crop_sources: dict = {}  # (padding, flip) -> CropSource of self.images, built at the first use
        self.fuse = fuse if shuffle else 1

    def __len__(self) -> int:
        return -(-self.batches_per_epoch // self.fuse)

    @property
    def batches_per_epoch(self) -> int:
        n = len(self.indices)
        if self.shuffle:
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        local = len(range(self.rank, n, self.world_size))
        return -(-local // self.batch_size)

    def _generator(self, salt: int) -> torch.Generator:
        g = torch.Generator(device=self.images.device)
        g.manual_seed((self.seed * 1_000_003 + self.epoch() * 1_009 + salt) % (2**63))
        return g

    def __iter__(self):
        if self.fuse == 1:
            yield from self._single_batches()
            return
        batches = self._single_batches()
        for i in range(len(self)):
            yield FusedBatches(next(batches) for _ in range(min(self.fuse, self.batches_per_epoch - i * self.fuse)))

    def _single_batches(self):
        if self.shuffle:
            order = torch.randperm(len(self.indices), generator=self._generator(0), device="cpu").to(self.images.device)
            order = self.indices[order]
        else:
            order = self.indices[self.rank::self.world_size]
        aug = self._generator(1 + self.rank) if self.augment else None
        for i in range(self.batches_per_epoch):
            chunk = order[i * self.batch_size:(i + 1) * self.batch_size]
            if self.shuffle:  # the global batch, then this rank's share of it
                share = len(chunk) // self.world_size
                chunk = chunk[self.rank * share:(self.rank + 1) * share]
            x = tuple(self._view(view, chunk, aug) for view in self.views) if self.views else \
                self._view(self.transform, chunk, aug)
            yield x, self.labels.index_select(0, chunk), chunk

    def _view(self, transform: BatchTransform, chunk: torch.Tensor, aug: Optional[torch.Generator]) -> torch.Tensor:
        """The batch ``chunk`` through ``transform``; a crop + flip is taken straight from the set's CropSource
        (the same draws and pixels as cropping the selected batch, in about a quarter of its CPU time)."""
        if aug is not None and transform.crops:
            key = (transform.crop_padding, transform.flip)
            if key not in self._crop_sources:
                self._crop_sources[key] = CropSource(self.images, padding=key[0], flip=key[1])
            return transform.finish(self._crop_sources[key].random(chunk, generator=aug), aug)
        # index_select copies whole rows (advanced indexing goes element by element: 16x slower for uint8)
        return transform(self.images.index_select(0, chunk), aug)
