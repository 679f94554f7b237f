"""Cross-entropy per sample."""
import torch
import torch.nn.functional as F
from torch import nn


def cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample CE: ``-log softmax(logits)[target]``, shape ``(B,)``."""
    return F.cross_entropy(logits, target, reduction="none")


class CrossEntropy(nn.Module):
    """Per-sample cross-entropy (``reduction='none'``); the method averages what it keeps."""

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return cross_entropy(logits, target)
