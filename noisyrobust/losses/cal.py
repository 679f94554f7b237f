"""CAL (Zhu, Liu & Liu, CVPR 2021, "A Second-Order Approach to Learning with Instance-Dependent Label Noise"):
a sieve that distills labels with a peer-regularized CE, then CE minus a peer term minus the covariance
term that the distilled labels estimate. Per-sample pieces and one batch estimate; eps as the authors' code."""
import torch
import torch.nn.functional as F

SIEVE_THRESHOLD = -8.0


def alpha_at(epoch: int, target: float, *, start: int = 10, end: int = 40) -> float:
    """The authors' segment schedule of alpha, stepped per epoch: 0 before ``start``, linear from 0 at
    ``start`` to ``target`` at ``end``, ``target`` after."""
    if epoch <= start:
        return 0.0
    return target * min(1.0, (epoch - start) / max(end - start, 1))


def peer_term(logits: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
    """Per sample, sum_k pi_k (-log(p_k + 1e-5)): CE against a label drawn from the prior pi (the peer term)."""
    return (prior * -(F.softmax(logits.float(), 1) + 1e-5).log()).sum(1)


def sieve_loss(logits: torch.Tensor, target: torch.Tensor, prior: torch.Tensor, alpha: float) -> torch.Tensor:
    """The sieve's loss per sample: -log(p_y + 1e-8) - alpha sum_k pi_k (-log(p_k + 1e-5)), pi the square-root
    prior sqrt(n_c) / sum_c sqrt(n_c) of the noisy labels."""
    p_y = F.softmax(logits.float(), 1).gather(1, target[:, None]).squeeze(1)
    return -(p_y + 1e-8).log() - alpha * peer_term(logits, prior)


def sieve_score(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """d_i = -log(p_y + 1e-8) - mean_k(-log(p_k + 1e-8)): how much worse the given label fits than an average
    class (higher = the label more suspicious)."""
    nll = -(F.softmax(logits.float(), 1) + 1e-8).log()
    return nll.gather(1, target[:, None]).squeeze(1) - nll.mean(1)


def distilled_labels(score: torch.Tensor, target: torch.Tensor, logits: torch.Tensor,
                     previous: torch.Tensor) -> torch.Tensor:
    """The sieve's label: the given one where d < -8, the prediction argmax p where d > -8, ``previous``
    where d is exactly -8 (the authors' buffer left unchanged)."""
    kept = torch.where(score < SIEVE_THRESHOLD, target, previous)
    return torch.where(score > SIEVE_THRESHOLD, logits.argmax(1), kept)


def covariance_weights(noisy: torch.Tensor, distilled: torch.Tensor, transition: torch.Tensor):
    """Per sample n with distilled label i = d_n: the row 1[ỹ_n = j] - T̂_ij over j, and whether it has a
    positive entry (I_n: T̂_{i, ỹ_n} < 1). T̂ = p(ỹ = j | distilled = i), estimated on the training set."""
    rows = transition[distilled]
    indicator = rows.gather(1, noisy[:, None]).squeeze(1) < 1
    return F.one_hot(noisy, rows.shape[1]).to(rows.dtype) - rows, indicator


def covariance_term(logits: torch.Tensor, noisy: torch.Tensor, distilled: torch.Tensor, transition: torch.Tensor,
                    share: torch.Tensor, loss_mean: torch.Tensor) -> torch.Tensor:
    """The batch estimate of CAL's covariance term:
    sum_i P_i sum_j [sum_{n in B, d_n = i} (1[ỹ_n = j] - T̂_ij)(l_nj - mu_ij) I_n] / max(#{n in B: d_n = i, I_n}, 1),
    l_nj = -log(p_nj + 1e-5), P_i the share of distilled label i, mu_ij the last epoch's mean of l_nj over the
    samples with d_n = i and I_n (``loss_mean``, C x C)."""
    nll = -(F.softmax(logits.float(), 1) + 1e-5).log()
    weights, indicator = covariance_weights(noisy, distilled, transition)
    per_sample = (weights * (nll - loss_mean[distilled])).sum(1) * indicator
    counts = torch.zeros_like(share).index_add_(0, distilled, indicator.to(share.dtype))
    return (share[distilled] * per_sample / counts.clamp(min=1)[distilled]).sum()


def class_loss_sums(logits: torch.Tensor, noisy: torch.Tensor, distilled: torch.Tensor, transition: torch.Tensor):
    """What mu is the epoch's mean of: sum over the batch's samples with d_n = i and I_n of l_nj (C x C), and
    their count per i (C)."""
    nll = -(F.softmax(logits.detach().float(), 1) + 1e-5).log()
    _, indicator = covariance_weights(noisy, distilled, transition)
    c = nll.shape[1]
    sums = torch.zeros(c, c, device=nll.device).index_add_(0, distilled, nll * indicator[:, None])
    return sums, torch.zeros(c, device=nll.device).index_add_(0, distilled, indicator.float())
