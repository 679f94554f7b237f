"""Early-learning regularization (Liu et al., NeurIPS 2020, "Early-Learning Regularization Prevents
Memorization of Noisy Labels")."""
import math

import torch
import torch.nn.functional as F

CLAMP = 1e-4  # the reference clamps p to [1e-4, 1 - 1e-4]


def clamped_softmax(logits: torch.Tensor) -> torch.Tensor:
    """p = softmax(logits) clamped to [1e-4, 1 - 1e-4] (the gradient passes the clamp where inside it)."""
    return F.softmax(logits.float(), 1).clamp(CLAMP, 1.0 - CLAMP)


def elr_target_update(target: torch.Tensor, probs: torch.Tensor, *, beta: float) -> torch.Tensor:
    """t_i <- beta t_i + (1 - beta) p̂_i, p̂ = the clamped p, detached, renormalized to sum 1 (targets
    start at 0, so the first visit gives (1 - beta) p̂)."""
    p_hat = probs.detach() / probs.detach().sum(1, keepdim=True)
    return beta * target + (1.0 - beta) * p_hat


def elr_regularizer(probs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample log(1 - <t_i, p_i>) with the clamped p (its minimum pulls p towards the target)."""
    return (1.0 - (target.detach() * probs).sum(1)).log()


def elr_loss(logits: torch.Tensor, labels: torch.Tensor, target: torch.Tensor, *, lam: float) -> torch.Tensor:
    """Per-sample ELR loss CE(logits, y) + lambda log(1 - <t_i, p_i>), with ``target`` already updated
    (the reference updates before the regularizer)."""
    return F.cross_entropy(logits.float(), labels, reduction="none") + lam * elr_regularizer(clamped_softmax(logits),
                                                                                            target)


def soft_cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample -sum_c t_c log softmax(logits)_c against a soft (e.g. mixed) target."""
    return -(target * F.log_softmax(logits.float(), 1)).sum(1)


def sigmoid_rampup(step: float, length: float) -> float:
    """exp(-5 (1 - step/length)^2) for step < length, then 1 (1 when length is 0): the ramp of ELR+ and
    of its weight averaging."""
    if length <= 0:
        return 1.0
    t = min(max(step / length, 0.0), 1.0)
    return math.exp(-5.0 * (1.0 - t) ** 2)  # a host float: no tensor, nothing to read back
