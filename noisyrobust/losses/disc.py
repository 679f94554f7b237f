"""DISC's step loss (Li et al., CVPR 2023, "DISC: Learning from Noisy Labels via Dynamic Instance-Specific
Selection and Correction"): CE on the clean set, GCE on the hard set, each weighted by its share of the
batch; the mixup term is ``soft_cross_entropy`` on mixed targets."""
import torch

from noisyrobust.losses.ce import cross_entropy
from noisyrobust.losses.gce import generalized_cross_entropy


def disc_supervised_loss(weak_logits: torch.Tensor, strong_logits: torch.Tensor, labels: torch.Tensor,
                         clean: torch.Tensor, hard: torch.Tensor, *, lambda_ce: float = 1.0,
                         lambda_h: float = 1.0, q: float = 0.7) -> torch.Tensor:
    """lambda_ce (n_c / B) mean_{clean} (CE_w + CE_s) + lambda_h (n_h / B) mean_{hard} (GCE_w + GCE_s),
    GCE_q = (1 - clamp(p_y, 1e-7, 1)^q) / q; i.e. sums over each set divided by the batch size B (an empty
    set adds 0)."""
    b = len(labels)
    ce = cross_entropy(weak_logits, labels) + cross_entropy(strong_logits, labels)
    gce = (generalized_cross_entropy(weak_logits, labels, q=q, floor=1e-7)
           + generalized_cross_entropy(strong_logits, labels, q=q, floor=1e-7))
    return (lambda_ce * (ce * clean).sum() + lambda_h * (gce * hard).sum()) / b
