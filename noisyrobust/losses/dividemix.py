"""DivideMix's pieces (Li et al., ICLR 2020, "DivideMix: Learning with Noisy Labels as Semi-supervised
Learning"): sharpening, co-refinement and co-guessing targets, MixMatch mixing, the semi-supervised loss,
the uniform-prior penalty and the warm-up's confidence penalty."""
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F


def sharpen(p: torch.Tensor, temperature: float) -> torch.Tensor:
    """p^(1/T) renormalized to sum 1 over the classes."""
    p = p ** (1.0 / temperature)
    return p / p.sum(1, keepdim=True)


def refined_labels(onehot: torch.Tensor, probs: torch.Tensor, clean_prob: torch.Tensor, *,
                   temperature: float) -> torch.Tensor:
    """Co-refinement: sharpen(w y + (1 - w) p̄, T), w the peer's clean probability, p̄ the trained
    network's softmax averaged over the views."""
    w = clean_prob[:, None]
    return sharpen(w * onehot + (1 - w) * probs, temperature)


class MixedTokens(tuple):
    """mixup of token sequences (DivideMix, ELR+), which cannot be averaged as ids: (tokens, partners, lam),
    mixed by the token models in their embedding space, λ e(x) + (1 - λ) e(x[perm]) (Guo, Mao & Zhang 2019,
    "Augmenting data with mixup for sentence classification")."""

    def __new__(cls, tokens: torch.Tensor, partners: torch.Tensor, lam: float):
        return super().__new__(cls, (tokens, partners, lam))


def mixmatch(inputs: torch.Tensor, targets: torch.Tensor, *, lam: float,
             perm: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Mixup with λ' = max(λ, 1 - λ) (rows stay closest to their own input): x' = λ' x + (1 - λ') x[perm],
    likewise the targets. Token ids (integer inputs) cannot be averaged: they come back as ``MixedTokens``,
    which the token networks mix in their embedding space."""
    lam = max(lam, 1.0 - lam)
    if not inputs.is_floating_point():
        return MixedTokens(inputs, inputs[perm], lam), lam * targets + (1 - lam) * targets[perm]
    return lam * inputs + (1 - lam) * inputs[perm], lam * targets + (1 - lam) * targets[perm]


def semi_supervised_loss(logits: torch.Tensor, targets: torch.Tensor, labelled: torch.Tensor,
                         class_weight: Optional[torch.Tensor] = None):
    """(Lx, Lu): Lx = -mean over labelled rows of sum_c w_c t_c log softmax_c (w = 1 unless ``class_weight``:
    PES-semi's class weights); Lu = mean over the unlabelled rows AND the classes of (softmax - t)² (the /C
    matters for λu's scale). ``labelled`` is a row mask."""
    lab = labelled.float()
    weighted = targets if class_weight is None else targets * class_weight
    lx = (-(weighted * F.log_softmax(logits.float(), 1)).sum(1) * lab).sum() / lab.sum().clamp(min=1)
    unl = 1.0 - lab
    lu = (((F.softmax(logits.float(), 1) - targets) ** 2).mean(1) * unl).sum() / unl.sum().clamp(min=1)
    return lx, lu


def uniform_prior_penalty(logits: torch.Tensor) -> torch.Tensor:
    """KL(π ‖ p̄) = sum_c π_c (log π_c - log p̄_c), π = 1/C, p̄ the mean softmax over all B rows, with
    log p̄_c = logsumexp_i log softmax(z_i)_c - log B: finite where p̄_c itself underflows in float32 (the
    reference's log(π / p̄) is inf there)."""
    b, c = logits.shape
    log_mean = torch.logsumexp(F.log_softmax(logits.float(), 1), 0) - math.log(b)
    return (math.log(1.0 / c) - log_mean).sum() / c


def confidence_penalty(logits: torch.Tensor) -> torch.Tensor:
    """Warm-up penalty for asymmetric noise: mean_i sum_c p_c log p_c (negative entropy; minimizing it keeps
    predictions from becoming over-confident)."""
    p = F.softmax(logits.float(), 1)
    return (p * F.log_softmax(logits.float(), 1)).sum(1).mean()


def lambda_u_ramp(lambda_u: float, progress: float, *, warmup: int, length: float = 16.0) -> float:
    """λu(t) = λu clip((epoch + batch/batches - warmup) / 16, 0, 1); ``progress`` = epoch + batch/batches."""
    return lambda_u * min(max((progress - warmup) / length, 0.0), 1.0)
