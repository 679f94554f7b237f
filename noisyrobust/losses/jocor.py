"""JoCoR's joint loss (Wei et al., CVPR 2020, "Combating Noisy Labels by Agreement")."""
import torch
import torch.nn.functional as F


def symmetric_kl(logits1: torch.Tensor, logits2: torch.Tensor) -> torch.Tensor:
    """Per-sample KL(p1 || p2) + KL(p2 || p1) of the two softmax distributions (gradients reach both)."""
    logp1, logp2 = F.log_softmax(logits1.float(), 1), F.log_softmax(logits2.float(), 1)
    return ((logp1.exp() - logp2.exp()) * (logp1 - logp2)).sum(1)


def jocor_loss(logits1: torch.Tensor, logits2: torch.Tensor, target: torch.Tensor, *,
               co_lambda: float) -> torch.Tensor:
    """Per-sample (1 - λ)(CE(p1, y) + CE(p2, y)) + λ(KL(p1 || p2) + KL(p2 || p1))."""
    ce = F.cross_entropy(logits1.float(), target, reduction="none") + \
        F.cross_entropy(logits2.float(), target, reduction="none")
    return (1.0 - co_lambda) * ce + co_lambda * symmetric_kl(logits1, logits2)
