"""PES's confident set and its class weights (Bai et al., NeurIPS 2021, "Understanding and Improving Early
Stopping for Learning with Noisy Labels"): after the progressive early stopping, a sample is trusted when the
network's prediction agrees with its given label."""
from typing import Optional

import torch


def confident_mask(probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Confident_i = [argmax_c p_ic = ỹ_i], p_i the (view-averaged) softmax of sample i."""
    return probs.argmax(1) == labels


def confident_class_weights(labels: torch.Tensor, confident: torch.Tensor, num_classes: int, *,
                            cap: Optional[float] = None) -> torch.Tensor:
    """w_c = mean_{c': n_c' > 0} n_c' / n_c, n_c the confident samples labelled c; 0 for a class with none
    (all C classes, also when the top ones have none); min(w_c, ``cap``) with a cap (PES-semi: 3)."""
    counts = torch.bincount(labels[confident], minlength=num_classes).float()
    present = counts > 0
    mean = counts.sum() / present.sum().clamp(min=1)
    weights = torch.where(present, mean / counts.clamp(min=1), torch.zeros_like(counts))
    return weights if cap is None else weights.clamp(max=cap)
