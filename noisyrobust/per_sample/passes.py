"""Passes of the current network(s) over every training sample between epochs: evaluation mode, no
augmentation, each DDP rank over its shard of the datamodule's ``predict_dataloader`` (device-resident
batches for small datasets, the DataLoader for image files), the rows then gathered on every rank."""
from contextlib import contextmanager
from typing import Callable, Dict

import torch
from torch import nn

from noisyrobust.per_sample.state import gather_rows


@contextmanager
def evaluation_mode(*nets: nn.Module):
    """Every module of ``nets`` in eval mode (BatchNorm on running statistics, dropout off), then back."""
    modes = [(m, m.training) for net in nets for m in net.modules()]
    for net in nets:
        net.eval()
    try:
        yield
    finally:
        for m, mode in modes:
            m.training = mode


def training_set_pass(datamodule, fn: Callable[..., Dict[str, torch.Tensor]], *, nets, device: torch.device,
                      num_samples: int, world_size: int = 1) -> Dict[str, torch.Tensor]:
    """Run ``fn(x, y, index) -> {name: per-sample tensor}`` over every training sample (validation split
    included, as ``predict_dataloader`` gives them) with ``nets`` in eval mode; returns one tensor of
    ``num_samples`` rows per name (NaN rows: samples no batch held), the same on every one of the
    ``world_size`` ranks the datamodule shards over (a collective: every rank calls it)."""
    parts: Dict[str, list] = {}
    seen = []
    with evaluation_mode(*nets):
        for x, y, index in datamodule.predict_dataloader():
            x, y, index = x.to(device), y.to(device), index.to(device)
            for name, value in fn(x, y, index).items():
                parts.setdefault(name, []).append(value.detach())
            seen.append(index)
    index = torch.cat(seen) if seen else torch.zeros(0, dtype=torch.long, device=device)
    values = {k: torch.cat(v) for k, v in parts.items()}
    index, values = gather_rows(index, values, world_size=world_size)
    out = {}
    for name, v in values.items():
        full = torch.full((num_samples, *v.shape[1:]), float("nan"), device=device)
        full[index] = v.float()
        out[name] = full
    return out

