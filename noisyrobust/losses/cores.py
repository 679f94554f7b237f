"""CORES² (Cheng et al., ICLR 2021, "Learning with Instance-Dependent Label Noise: A Sample Sieve Approach"):
cross-entropy with a confidence regularizer that rewards confident predictions, weighed by β(e)."""
import torch
import torch.nn.functional as F

LOG_EPS = 1e-8  # the authors' -log(p + 1e-8)
PAPER_EPOCHS = 100


def confidence_regularizer(logits: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
    """Per-sample sum_k π_k (-log(p_k + 1e-8)): CE against the prior π, small for a confident prediction."""
    return (prior * -(F.softmax(logits.float(), 1) + LOG_EPS).log()).sum(1)


def cores_loss(logits: torch.Tensor, labels: torch.Tensor, prior: torch.Tensor, *, beta: float) -> torch.Tensor:
    """Per-sample confidence-regularized CE: CE(f(x_i), y_i) - β sum_k π_k (-log(p_k + 1e-8))."""
    ce = F.cross_entropy(logits.float(), labels, reduction="none")
    return ce - beta * confidence_regularizer(logits, prior)


def cores_beta(epoch: float, *, peak: float = 2.0) -> float:
    """β at ``epoch`` of the authors' 100-epoch plan: 0 for epochs 0-9, linspace(0, peak, 30) over epochs
    10-39 (fractional epochs of a stretched schedule take their epoch's value), then ``peak``."""
    e = int(epoch)
    if e < 10:
        return 0.0
    return peak * min(e - 10, 29) / 29
