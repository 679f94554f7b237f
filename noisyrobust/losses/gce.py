"""Generalized cross-entropy L_q and its truncated variant (Zhang & Sabuncu, NeurIPS 2018, "Generalized
Cross Entropy Loss for Training Deep Neural Networks with Noisy Labels")."""
import torch
import torch.nn.functional as F
from torch import nn

from noisyrobust.errors import UserError


def generalized_cross_entropy(logits: torch.Tensor, target: torch.Tensor, *, q: float,
                              floor: float = 1e-12) -> torch.Tensor:
    """Per-sample L_q = (1 - max(p_y, floor)^q) / q, p = softmax(logits): CE as q -> 0, MAE-like at q = 1
    (DISC's code clamps p_y at 1e-7)."""
    p_y = F.softmax(logits.float(), 1).gather(1, target[:, None]).squeeze(1)
    return (1.0 - p_y.clamp(min=floor) ** q) / q


def truncation_constant(*, q: float, k: float) -> float:
    """L_q(k) = (1 - k^q) / q: the loss at the truncation point p_y = k."""
    return (1.0 - k ** q) / q


def truncated_gce(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, *, q: float,
                  k: float) -> torch.Tensor:
    """Per-sample truncated L_q: w_i (L_q(f(x_i), y_i) - L_q(k)), w_i in {0, 1} from the last pruning
    (the constant shifts the value only; pruned samples contribute nothing)."""
    return weight * (generalized_cross_entropy(logits, target, q=q) - truncation_constant(q=q, k=k))


def truncation_weights(logits: torch.Tensor, target: torch.Tensor, *, k: float) -> torch.Tensor:
    """Pruning rule: w_i = 1 if L_q(f(x_i), y_i) < L_q(k), i.e. p_y > k, else 0."""
    return (F.softmax(logits.float(), 1).gather(1, target[:, None]).squeeze(1) > k).float()


class GeneralizedCrossEntropy(nn.Module):
    """L_q per sample (paper default q = 0.7)."""

    def __init__(self, q: float = 0.7):
        super().__init__()
        if not 0.0 < q <= 1.0:
            raise UserError(f"GCE q={q} is outside (0, 1]")
        self.q = q

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return generalized_cross_entropy(logits, target, q=self.q)
