"""Per-sample state: tensors with one row per training sample (by global dataset index) on the training
device, written from training steps and merged across DDP ranks, so every rank holds the same rows."""
from contextlib import contextmanager
from typing import Dict, Tuple

import torch
import torch.distributed as dist


def gather_rows(index: torch.Tensor, values: Dict[str, torch.Tensor], *,
                world_size: int) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    """All-gather ``(index, values)`` from the ``world_size`` ranks of the default process group: the
    concatenation, in rank order, of each rank's ``index`` (1-D) and of each ``values[name]`` (rows aligned
    with ``index``). Ranks may hold different row counts (padded for the collective, then cut). With one
    process (``world_size`` 1: also a one-device stage inside a DDP process), the input unchanged."""
    if world_size == 1:
        return index, values
    world = world_size
    count = torch.tensor([len(index)], device=index.device)
    counts = [torch.zeros_like(count) for _ in range(world)]
    dist.all_gather(counts, count)
    counts = [int(c) for c in counts]
    width = max(counts)

    def gather(t: torch.Tensor) -> torch.Tensor:
        padded = t.new_zeros((width, *t.shape[1:]))
        padded[:len(t)] = t
        parts = [torch.empty_like(padded) for _ in range(world)]
        dist.all_gather(parts, padded.contiguous())
        return torch.cat([p[:c] for p, c in zip(parts, counts)])

    return gather(index), {name: gather(v) for name, v in values.items()}


class PerSampleState(torch.nn.Module):
    """Named per-sample tensors of ``num_samples`` rows plus a ``seen`` mask of the rows written since the
    last ``merge``. ``write`` is a scatter (no host sync); ``merge`` makes every DDP rank hold every rank's
    written rows (each rank writes its own shard) and returns the indices written anywhere.

    >>> s = PerSampleState(4, loss=torch.float32)
    >>> s.write(torch.tensor([2, 0]), loss=torch.tensor([0.5, 1.5]))
    >>> s.merge().tolist(), s.loss.tolist()
    ([0, 2], [1.5, 0.0, 0.5, 0.0])
    """

    def __init__(self, num_samples: int, *, trailing: Dict[str, tuple] = None, **dtypes: torch.dtype):
        super().__init__()
        trailing = trailing or {}
        self.names = list(dtypes)
        for name, dtype in dtypes.items():
            self.register_buffer(name, torch.zeros((num_samples, *trailing.get(name, ())), dtype=dtype),
                                 persistent=False)
        self.register_buffer("seen", torch.zeros(num_samples, dtype=torch.bool), persistent=False)

    frozen = False  # inside ``frozen_rows``: writes and shares are dropped

    def write(self, index: torch.Tensor, **values: torch.Tensor) -> None:
        if self.frozen:
            return
        for name, v in values.items():
            buffer = getattr(self, name)
            buffer[index] = v if v.dtype == buffer.dtype else v.to(buffer.dtype)  # bf16 logits under autocast
        self.seen[index] = True

    def share(self, index: torch.Tensor, world_size: int = 1) -> None:
        """Give every DDP rank the rows this step wrote at ``index`` on every rank: a collective of fixed
        size, for the per-step state of a method (ELR targets, SOP u/v) whose rows another rank may read
        later in the same epoch. Every rank passes the same number of rows (its share of the global batch),
        so no row count and no mask is read on the host, unlike ``merge``."""
        if world_size == 1 or self.frozen:
            return
        parts = [torch.empty_like(index) for _ in range(world_size)]
        dist.all_gather(parts, index.contiguous())
        for name in self.names:
            rows = getattr(self, name)[index]
            gathered = [torch.empty_like(rows) for _ in range(world_size)]
            dist.all_gather(gathered, rows.contiguous())
            getattr(self, name)[torch.cat(parts)] = torch.cat(gathered)

    def merge(self, world_size: int = 1) -> torch.Tensor:
        """Sorted global indices written (on any of the ``world_size`` ranks) since the last merge; clears
        ``seen``. A collective under DDP: every rank calls it at the same point."""
        index = self.seen.nonzero().squeeze(1)
        self.seen.zero_()
        if world_size == 1:
            return index
        index, values = gather_rows(index, {n: getattr(self, n)[index] for n in self.names}, world_size=world_size)
        for name, v in values.items():
            getattr(self, name)[index] = v
        return index.unique()


@contextmanager
def frozen_rows(module: torch.nn.Module):
    """Inside the block, every ``PerSampleState`` of ``module`` ignores writes: like BatchNorm's running
    statistics, a method's running per-sample state (ELR's targets) sees each batch once, however many
    loss passes an optimizer takes on it."""
    states = [m for m in module.modules() if isinstance(m, PerSampleState)]
    for state in states:
        state.frozen = True
    try:
        yield
    finally:
        for state in states:
            state.frozen = False
