"""Peer samples (Liu & Guo, ICML 2020; Wei & Liu, ICLR 2021): labels drawn for the batch independently of its
images, afresh at every step, from a generator keyed by the run's seed and the step alone, so that every DDP
rank and a resumed run draw exactly the same."""
import torch


def step_generator(seed: int, step: int, device: torch.device) -> torch.Generator:
    """A generator on ``device`` seeded from (seed, step) only."""
    g = torch.Generator(device=device)
    g.manual_seed((seed * 1_000_003 + step * 7_919 + 104_729) % (2**63))
    return g


def draw_peer_labels(pool: torch.Tensor, *, count: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` labels of ``pool`` (the training samples' noisy labels) drawn uniformly with replacement:
    each one a sample of the noisy-label marginal, independent of every image."""
    return pool[torch.randint(len(pool), (count,), generator=generator, device=pool.device)]


def rank_share(draw: torch.Tensor, *, rank: int, world_size: int) -> torch.Tensor:
    """This rank's slice of a draw for the global batch, as the global batch itself is sliced (rank r holds
    positions r·B/W .. (r+1)·B/W): W processes pair each image with the label one process would."""
    share = len(draw) // world_size
    return draw[rank * share:(rank + 1) * share]
