"""ProMix's debiasing and targets (Xiao et al., IJCAI 2023, "ProMix: Combating Label Noise via Maximizing
Clean Sample Utility"): a running class prior pi per network, logit adjustment of the training logits by
tau_o log pi, pseudo-labels from softmax(z - tau_pl log pi), and the schedules of the unlabelled terms."""
import torch
import torch.nn.functional as F


def debiased_logits(logits: torch.Tensor, prior: torch.Tensor, *, tau: float) -> torch.Tensor:
    """z + tau log pi (the loss side: a class the selection over-represents gets its logit raised, so its
    training gradient shrinks)."""
    return logits.float() + tau * prior.clamp(min=1e-12).log()


def debiased_probs(logits: torch.Tensor, prior: torch.Tensor, *, tau: float) -> torch.Tensor:
    """softmax(z - tau log pi): the pseudo-label side, computed from the raw main-head logits."""
    return F.softmax(logits.float() - tau * prior.clamp(min=1e-12).log(), 1)


def pseudo_targets(onehot: torch.Tensor, debiased: torch.Tensor, selected: torch.Tensor) -> torch.Tensor:
    """y w + onehot(argmax debiased p) (1 - w), w = 1 on the selected rows: the given label where the
    selection trusts it, the debiased guess elsewhere (used by the rows label guessing adds)."""
    guess = F.one_hot(debiased.argmax(1), onehot.shape[1]).to(onehot.dtype)
    return torch.where(selected[:, None], onehot, guess)


def prior_update(prior: torch.Tensor, prob_sum: torch.Tensor, count: torch.Tensor, *,
                 momentum: float) -> torch.Tensor:
    """pi <- m pi + (1 - m) mean p over the rows (``prob_sum`` / ``count``); unchanged when ``count`` is 0
    (the authors' mean over nothing would make pi NaN for good)."""
    mean = prob_sum / count.clamp(min=1)
    return torch.where(count > 0, momentum * prior + (1 - momentum) * mean, prior)


def linear_ramp(epoch: float, length: float) -> float:
    """clip(epoch / length, 0, 1): ProMix's weight w of the strong-view and mixing terms (length 50) and,
    times 0.1, the weight beta of the pseudo head's unlabelled term (length 100, then 0)."""
    return min(max(epoch / length, 0.0), 1.0) if length > 0 else 1.0
