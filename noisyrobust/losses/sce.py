"""Symmetric cross-entropy (Wang et al., ICCV 2019, "Symmetric Cross Entropy for Robust Learning with
Noisy Labels")."""
import math

import torch
import torch.nn.functional as F
from torch import nn

from noisyrobust.errors import UserError


def reverse_cross_entropy(logits: torch.Tensor, target: torch.Tensor, *, label_clamp: float = 1e-4,
                          prob_clamp: float = 1e-7) -> torch.Tensor:
    """Per-sample RCE = -sum_k p_k log q_k, q the one-hot label clamped to [label_clamp, 1].

    With the clamp, log q is 0 on the labelled class and A = ln(label_clamp) elsewhere (A = ln 1e-4
    ≈ -9.21 as in the authors' code), so RCE = -A * (1 - p_y); p is clamped to [prob_clamp, 1].
    """
    p = F.softmax(logits.float(), dim=1).clamp(min=prob_clamp, max=1.0)
    p_label = p.gather(1, target[:, None]).squeeze(1)
    # sum over k != y of p_k, from the clamped probabilities, times -A
    return -math.log(label_clamp) * (p.sum(1) - p_label)


def symmetric_cross_entropy(logits: torch.Tensor, target: torch.Tensor, *, alpha: float, beta: float,
                            label_clamp: float = 1e-4, prob_clamp: float = 1e-7) -> torch.Tensor:
    """Per-sample SCE = alpha * CE + beta * RCE."""
    ce = F.cross_entropy(logits.float(), target, reduction="none")
    rce = reverse_cross_entropy(logits, target, label_clamp=label_clamp, prob_clamp=prob_clamp)
    return alpha * ce + beta * rce


class SymmetricCrossEntropy(nn.Module):
    """SCE as a module: ``alpha`` weighs CE, ``beta`` the reverse CE (paper: CIFAR-10 0.1 / 1.0)."""

    def __init__(self, alpha: float = 0.1, beta: float = 1.0, label_clamp: float = 1e-4,
                 prob_clamp: float = 1e-7):
        super().__init__()
        if alpha < 0 or beta < 0:
            raise UserError(f"SCE weights alpha={alpha}, beta={beta} must both be >= 0")
        self.alpha, self.beta = alpha, beta
        self.label_clamp, self.prob_clamp = label_clamp, prob_clamp

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return symmetric_cross_entropy(logits, target, alpha=self.alpha, beta=self.beta,
                                       label_clamp=self.label_clamp, prob_clamp=self.prob_clamp)
