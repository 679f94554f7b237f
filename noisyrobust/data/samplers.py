"""Which samples each process loads, epoch by epoch: a seeded draw of the whole epoch, sharded over ranks.

Both samplers subclass ``DistributedSampler`` only so that Lightning keeps them as they are under DDP:
it replaces a DataLoader's plain sampler by a ``DistributedSampler`` and wraps any other in a
``DistributedSamplerWrapper`` (which would shuffle our draw again and pad it), but leaves a
``DistributedSampler`` alone and calls its ``set_epoch`` at every epoch start. They shard themselves.
"""
from typing import Optional

import numpy as np
from torch.utils.data import DistributedSampler


def _cover(members: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` draws from ``members``, each drawn floor or ceil(count / len) times: without replacement
    while there are enough, then as evenly as possible."""
    rounds, rest = divmod(count, len(members))
    return np.concatenate([np.tile(members, rounds), rng.choice(members, rest, replace=False)])


def class_balanced_indices(labels, *, num_samples: int, rng: np.random.Generator) -> np.ndarray:
    """Positions into ``labels``: ``num_samples`` of them, an equal share for every class present (the
    ``num_samples % K`` extra ones to random classes), in random order. Within a class, samples are drawn
    without replacement, or all of them and then evenly again when the class is smaller than its share.
    The per-epoch class-balanced resample of Clothing1M's noisy labels (DivideMix, Li et al. 2020).
    """
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    quota = np.full(len(classes), num_samples // len(classes))
    quota[rng.permutation(len(classes))[:num_samples % len(classes)]] += 1
    by_class = np.split(np.argsort(labels, kind="stable"), np.cumsum(counts)[:-1])
    picks = [_cover(members, int(q), rng) for members, q in zip(by_class, quota)]
    return rng.permutation(np.concatenate(picks))


class TrainSampler(DistributedSampler):
    """Every epoch, a draw of ``num_samples`` of the training samples ``indices`` from a generator seeded by
    (seed, epoch): class-balanced over ``labels`` when given, else uniform (without replacement while it
    can). Each draw comes with its own augmentation seed from the same generator.

    Rank r of ``world_size`` takes draws r, r + world_size, ... — so each global batch of ``world_size``
    equal local batches is a consecutive slice of the draw — and every rank takes the same number of them
    (``num_samples // world_size``), so no rank waits for another's extra batch. The draws depend on the
    seed and the epoch alone: the same on every rank, for any number of workers, and after a resume.
    Yields (global index, augmentation seed).
    """

    def __init__(self, indices, *, seed: int, labels=None, num_samples: Optional[int] = None,
                 rank: int = 0, world_size: int = 1):
        self.indices = np.asarray(indices, dtype=np.int64)
        self.labels = None if labels is None else np.asarray(labels)
        self.num_total = len(self.indices) if num_samples is None else int(num_samples)
        assert len(self.indices) > 0 and self.num_total >= world_size, (len(self.indices), self.num_total)
        assert self.labels is None or len(self.labels) == len(self.indices)
        super().__init__(range(self.num_total), num_replicas=world_size, rank=rank, shuffle=True, seed=seed,
                         drop_last=True)

    def epoch_draw(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """The whole epoch's draw, before sharding: (global indices, augmentation seeds)."""
        rng = np.random.default_rng([self.seed, epoch])
        if self.labels is None:
            positions = rng.permutation(_cover(np.arange(len(self.indices)), self.num_total, rng))
        else:
            positions = class_balanced_indices(self.labels, num_samples=self.num_total, rng=rng)
        return self.indices[positions], rng.integers(0, 2**62, size=len(positions))

    def __len__(self) -> int:
        return self.num_total // self.num_replicas

    def __iter__(self):
        indices, seeds = self.epoch_draw(self.epoch)
        shard = slice(self.rank, len(self) * self.num_replicas, self.num_replicas)
        return iter(zip(indices[shard].tolist(), seeds[shard].tolist()))


class EvalSampler(DistributedSampler):
    """The samples ``indices`` in order, rank r taking r, r + world_size, ...: every sample is scored exactly
    once (a padded ``DistributedSampler`` would score some twice)."""

    def __init__(self, indices, *, rank: int = 0, world_size: int = 1):
        self.indices = np.asarray(indices, dtype=np.int64)[rank::world_size]
        super().__init__(range(max(len(indices), world_size)), num_replicas=world_size, rank=rank, shuffle=False)

    def __len__(self) -> int:
        return len(self.indices)

    def __iter__(self):
        return iter(self.indices.tolist())
