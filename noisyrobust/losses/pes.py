"""PES's loss on the confident set (Bai et al., NeurIPS 2021): class-weighted cross-entropy."""
import torch
import torch.nn.functional as F


def weighted_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, class_weight: torch.Tensor,
                           kept: torch.Tensor) -> torch.Tensor:
    """sum_i m_i w_{ỹ_i} CE(z_i, ỹ_i) / sum_i m_i w_{ỹ_i} over the kept rows m (PyTorch's
    ``CrossEntropyLoss(weight=w)``, normalized by the weights, not the batch size); 0 when nothing is kept."""
    w = class_weight[labels] * kept.float()
    ce = F.cross_entropy(logits.float(), labels, reduction="none")
    return (w * ce).sum() / w.sum().clamp(min=1e-12)
