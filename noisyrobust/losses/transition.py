"""The noise transition matrix T, T[i, j] = p(noisy = j | clean = i), row-stochastic, and the losses that use
it: forward and backward correction (Patrini et al., CVPR 2017, "Making Deep Neural Networks Robust to Label
Noise: a Loss Correction Approach"), T-Revision's importance reweighting with a revised T (Xia et al.,
NeurIPS 2019, "Are Anchor Points Really Indispensable in Label-Noise Learning?") and VolMinNet's learnable T
with its volume (Li et al., ICML 2021, "Provably End-to-end Label-Noise Learning without Anchor Points");
the anchor-point estimate of T and the check of a given one."""
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F

from noisyrobust.errors import UserError
from noisyrobust.noise import transition_matrix

EPS = 1e-7  # the Keras epsilon the reference clips probabilities with


def clamped_softmax(logits: torch.Tensor) -> torch.Tensor:
    """p = softmax(logits) clipped to [eps, 1 - eps] (float32), as the Keras reference clips the prediction."""
    return F.softmax(logits.float(), 1).clamp(EPS, 1.0 - EPS)


def noisy_prediction(logits: torch.Tensor, transition: torch.Tensor) -> torch.Tensor:
    """p(ỹ | x) = p^T T: the clean prediction pushed through the transition matrix (rows: samples)."""
    return F.softmax(logits.float(), 1) @ transition.float()


def forward_corrected_ce(logits: torch.Tensor, target: torch.Tensor, transition: torch.Tensor) -> torch.Tensor:
    """Per-sample forward-corrected CE: -log (p^T T)_y, p = softmax(logits) clipped to [eps, 1 - eps].

    Only p is clipped, as the paper and its Keras code do: (p^T T)_y itself is not, so that a column y of T
    summing to less than 1 neither caps the loss nor zeroes its gradient."""
    noisy = clamped_softmax(logits) @ transition.float()
    return -noisy.gather(1, target[:, None]).squeeze(1).log()


def backward_corrected_ce(logits: torch.Tensor, target: torch.Tensor, inverse: torch.Tensor) -> torch.Tensor:
    """Per-sample backward-corrected CE: sum_j (T^-1)[y, j] (-log p_j) — the row of T^-1 of the noisy
    label dotted with the vector of per-class losses (unbiased for the clean loss; may be negative)."""
    return (inverse.float()[target] * -clamped_softmax(logits).log()).sum(1)


def reweighted_ce(logits: torch.Tensor, target: torch.Tensor, transition: torch.Tensor, *,
                  revision: Optional[torch.Tensor] = None, accumulate: bool = False,
                  detach_weight: bool = True) -> torch.Tensor:
    """Per-sample importance-reweighted CE of T-Revision: beta_i * CE(z_i, y_i), with
    beta_i = p_y(x_i) / (p(x_i)^T (T + ΔT))_y the ratio of the clean to the noisy class posterior.

    ``revision`` ΔT (None: 0) is added once, as the paper writes it; ``accumulate`` instead gives the i-th
    sample of the batch T + (i+1)ΔT, as the authors' code does (it adds ΔT to T inside its per-sample loop).
    ``detach_weight``: beta as a constant (the reweighting stage); False lets the gradient reach ΔT through
    beta (the revision stage, where that is the only way ΔT learns)."""
    p = F.softmax(logits.float(), 1)
    noisy = p @ transition.float()
    if revision is not None:
        shift = p @ revision.float()
        if accumulate:
            shift = shift * torch.arange(1, len(target) + 1, device=shift.device, dtype=shift.dtype)[:, None]
        noisy = noisy + shift
    y = target[:, None]
    beta = (p.gather(1, y) / noisy.gather(1, y)).squeeze(1)
    if detach_weight:
        beta = beta.detach()
    return beta * F.cross_entropy(logits.float(), target, reduction="none")


def volume_transition(weights: torch.Tensor) -> torch.Tensor:
    """VolMinNet's learnable T: the rows of I + (1 - I) * sigmoid(W) normalized to sum 1 (W: C x C free
    parameters, its diagonal unused), so T is row-stochastic with a dominant diagonal at initialization."""
    eye = torch.eye(len(weights), device=weights.device, dtype=weights.dtype)
    t = eye + (1 - eye) * torch.sigmoid(weights)
    return t / t.sum(1, keepdim=True)


def log_volume(transition: torch.Tensor) -> torch.Tensor:
    """log |det T|: the volume of the simplex spanned by T's rows, which VolMinNet minimizes."""
    return torch.linalg.slogdet(transition)[1]


def realized_transition(clean: np.ndarray, noisy: np.ndarray, *, num_classes: int) -> np.ndarray:
    """The realized T of the samples whose clean label is known (``clean >= 0``); a class without such samples
    gets the identity row (no noise known). What an estimate of T is scored against."""
    known = clean >= 0
    realized = transition_matrix(clean[known], noisy[known], num_classes=num_classes)
    empty = realized.sum(1) == 0
    realized[empty] = np.eye(num_classes)[empty]
    return realized


def estimate_transition(probs: np.ndarray, *, filter_outlier: bool = True, percentile: float = 97.0) -> np.ndarray:
    """T̂ from anchor points: for each class i, the sample x̄_i with the highest p̂(i|x) — among those below
    the ``percentile``-th percentile of p̂(i|·) when ``filter_outlier`` (the paper's rule, all datasets but
    CIFAR-100) — gives row i = p̂(·|x̄_i), then rows are renormalized. ``probs``: (N, C) softmax outputs of
    a model trained with CE on the noisy labels."""
    probs = np.asarray(probs, dtype=np.float64)
    c = probs.shape[1]
    t = np.empty((c, c))
    for i in range(c):
        score = probs[:, i].copy()  # a copy: the reference zeroes a view and changes later rows (a pitfall)
        if filter_outlier:
            cut = np.percentile(score, percentile, method="higher")
            score[score >= cut] = 0.0
        t[i] = probs[int(np.argmax(score))]
    return t / t.sum(1, keepdims=True)


def check_transition(t: np.ndarray, *, num_classes: int, source: str, invertible: bool) -> np.ndarray:
    """``t`` as a float64 C x C row-stochastic matrix, refused by name if it is not one (or, for the backward
    correction, if it is singular)."""
    t = np.asarray(t, dtype=np.float64)
    if t.shape != (num_classes, num_classes):
        raise UserError(f"transition matrix from {source} has shape {t.shape}; this dataset needs "
                        f"({num_classes}, {num_classes})")
    if not np.isfinite(t).all() or (t < -1e-6).any() or not np.allclose(t.sum(1), 1.0, atol=1e-4):
        raise UserError(f"transition matrix from {source} is not row-stochastic (entries >= 0, each row "
                        "summing to 1)")
    if invertible and np.linalg.cond(t) > 1e8:
        raise UserError(f"transition matrix from {source} is singular, so method=backward cannot invert it; "
                        "use method=forward or another matrix")
    return t
