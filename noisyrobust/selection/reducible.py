"""Selection rules of RHO-LOSS (Mindermann et al., ICML 2022) and its ablations, on the device.

From a large batch of B points, each rule keeps ``keep`` of them:

- ``reducible_loss``: the top ``keep`` of the reducible holdout loss ``L(y|x; model) - IL(x, y)``, where IL
  is the loss of the irreducible-loss model trained on a holdout split (the paper's rule);
- ``loss``: the top ``keep`` of the model's loss (prioritize hard points; the paper's "loss" baseline);
- ``irreducible``: the bottom ``keep`` of IL (points the holdout model finds easy);
- ``uniform``: ``keep`` points drawn uniformly without replacement (plain small-batch training).

Masks over the batch, computed with one stable sort on the device: ties keep the lower batch position,
and nothing reaches the host (``keep`` is a host int, known from the batch size alone).
"""
import math
from typing import Optional

import torch

from noisyrobust.selection.small_loss import small_loss_mask

SELECTION_RULES = ("reducible_loss", "loss", "irreducible", "uniform")


def keep_count(n: int, keep_ratio: float) -> int:
    """round(keep_ratio * n), halves up and robust to float error (0.1 * 320 keeps 32), at least 1."""
    return max(1, math.floor(keep_ratio * n + 0.5 + 1e-9))


def top_k_mask(scores: torch.Tensor, keep: int) -> torch.Tensor:
    """Boolean mask of the ``keep`` largest ``scores`` (ties: the lower position)."""
    return small_loss_mask(-scores.detach(), keep)


def reducible_loss_mask(loss: torch.Tensor, irreducible: torch.Tensor, keep: int) -> torch.Tensor:
    """RHO-LOSS: the ``keep`` largest ``loss - irreducible`` (reducible holdout loss)."""
    return top_k_mask(loss.detach() - irreducible, keep)


def high_loss_mask(loss: torch.Tensor, keep: int) -> torch.Tensor:
    """The ``keep`` largest losses."""
    return top_k_mask(loss, keep)


def low_irreducible_mask(irreducible: torch.Tensor, keep: int) -> torch.Tensor:
    """The ``keep`` smallest irreducible losses."""
    return small_loss_mask(irreducible, keep)


def uniform_mask(n: int, keep: int, *, generator: Optional[torch.Generator] = None,
                 device: Optional[torch.device] = None) -> torch.Tensor:
    """``keep`` of ``n`` positions uniformly without replacement: the smallest ``keep`` of n uniform draws
    from ``generator`` (which must live on ``device``)."""
    if generator is not None:
        device = generator.device
    return small_loss_mask(torch.rand(n, generator=generator, device=device), keep)


def select_mask(rule: str, *, loss: torch.Tensor, irreducible: torch.Tensor, keep: int,
                generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """The mask of the selection ``rule`` (one of ``SELECTION_RULES``) over a batch with per-sample
    ``loss`` (model) and ``irreducible`` (IL model)."""
    if rule == "reducible_loss":
        return reducible_loss_mask(loss, irreducible, keep)
    if rule == "loss":
        return high_loss_mask(loss, keep)
    if rule == "irreducible":
        return low_irreducible_mask(irreducible, keep)
    if rule == "uniform":
        return uniform_mask(len(loss), keep, generator=generator, device=loss.device)
    raise ValueError(f"unknown selection rule {rule!r}; choose from {', '.join(SELECTION_RULES)}")


def kept_positions(kept: torch.Tensor, keep: int) -> torch.Tensor:
    """Ascending batch positions of the ``keep`` True entries of ``kept`` — an index of known size, so
    ``x[kept_positions(...)]`` needs no host sync (boolean indexing would)."""
    return torch.argsort((~kept).to(torch.uint8), stable=True)[:keep]
