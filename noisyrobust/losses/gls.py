"""Generalized label smoothing (Wei et al., ICML 2022, "To Smooth or Not? When Label Smoothing Meets Noisy
Labels"): cross-entropy against (1 - r)·onehot(y) + r/C, where the smooth rate r may be negative (negative
label smoothing, which pushes the prediction past the one-hot label)."""
import torch
import torch.nn.functional as F


def generalized_label_smoothing(logits: torch.Tensor, labels: torch.Tensor, *, smooth_rate: float) -> torch.Tensor:
    """Per-sample (1 - r)·CE(y) + r·mean_k(-log p_k) = -sum_k ((1 - r)·1[k = y] + r/C) log p_k (the authors'
    weights wa = 0, wb = 1; r < 0 is NLS)."""
    log_p = F.log_softmax(logits.float(), 1)
    ce = -log_p.gather(1, labels[:, None]).squeeze(1)
    return (1.0 - smooth_rate) * ce + smooth_rate * (-log_p.mean(1))
