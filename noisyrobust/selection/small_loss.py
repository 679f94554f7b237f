"""Small-loss selection (Han et al. 2018) and the disagreement subset (Yu et al. 2019), on the device.

Masks, not index lists, so that a count known only on the device (the size of a disagreement subset)
never has to reach the host. Ties keep the lower batch position (stable sort).
"""
import math
from typing import Optional, Union

import torch


def num_to_keep(n: Union[int, torch.Tensor], forget_rate: float) -> Union[int, torch.Tensor]:
    """floor((1 - forget_rate) * n), robust to float error ((1 - 0.9) * 10 keeps 1, not 0). ``n`` may be a
    0-d device tensor (a count known only on the device): computed in float64 there, so the same number."""
    if isinstance(n, torch.Tensor):
        return ((1.0 - forget_rate) * n.double() + 1e-6).floor().long()
    return math.floor((1.0 - forget_rate) * n + 1e-6)


def small_loss_mask(losses: torch.Tensor, keep: Union[int, torch.Tensor],
                    among: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Boolean mask of the ``keep`` smallest ``losses`` (among the samples where ``among`` is True).

    ``keep`` may be a 0-d device tensor; no host synchronization either way.
    """
    if among is not None:
        losses = losses.masked_fill(~among, float("inf"))
    order = torch.argsort(losses.detach(), stable=True)
    rank = torch.empty_like(order)
    rank[order] = torch.arange(len(order), device=order.device)
    kept = rank < keep
    return kept & among if among is not None else kept


def disagreement_mask(logits1: torch.Tensor, logits2: torch.Tensor) -> torch.Tensor:
    """Samples on which the two networks' predicted classes differ (Co-teaching+)."""
    return logits1.argmax(1) != logits2.argmax(1)


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Plain mean of ``values`` over ``mask`` (0 for an empty mask; Co-teaching's reference divides
    twice by the kept count — a pitfall)."""
    return (values * mask).sum() / mask.sum().clamp(min=1)
