"""CORES²'s sample sieve (Cheng et al., ICLR 2021): a sample stays while its loss on the given label is at
most the mean of its losses on every class; the noisy-label prior is re-estimated without the sieved samples."""
import torch
import torch.nn.functional as F

from noisyrobust.losses.cores import LOG_EPS


def sieve_statistic(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per-sample CE(f(x_i), y_i) - mean_k(-log(p_k + 1e-8)) (the uniform mean whatever the prior and β, as the
    authors): > 0 when the given label is less likely than the prediction's average class; higher = more
    suspicious."""
    ce = F.cross_entropy(logits.float(), labels, reduction="none")
    return ce - (-(F.softmax(logits.float(), 1) + LOG_EPS).log()).mean(1)


def sieve_mask(statistic: torch.Tensor, *, active: bool) -> torch.Tensor:
    """v_i = 1 (kept) when the sieve is not active yet or the statistic is <= 0."""
    return torch.ones_like(statistic, dtype=torch.bool) if not active else statistic <= 0


def sieved_prior(labels: torch.Tensor, sieved: torch.Tensor, num_classes: int) -> torch.Tensor:
    """π ∝ π₀·N - #sieved of each class = the count of each noisy class among the samples not sieved
    (``labels`` the training samples' noisy labels, ``sieved`` a mask over them), normalized."""
    counts = torch.bincount(labels[~sieved], minlength=num_classes).float()
    return counts / counts.sum().clamp(min=1)
