"""Forward and backward loss correction with a noise transition matrix (Patrini et al., CVPR 2017,
"Making Deep Neural Networks Robust to Label Noise: a Loss Correction Approach"). T is row-stochastic,
T[i, j] = p(noisy = j | clean = i)."""
import numpy as np
import torch
import torch.nn.functional as F

from noisyrobust.errors import UserError

EPS = 1e-7  # the Keras epsilon the reference clips probabilities with


def forward_corrected_ce(logits: torch.Tensor, target: torch.Tensor, transition: torch.Tensor) -> torch.Tensor:
    """Per-sample forward-corrected CE: -log (p^T T)_y, p = softmax(logits) clipped to [eps, 1 - eps]."""
    p = F.softmax(logits.float(), 1).clamp(EPS, 1.0 - EPS)
    noisy = (p @ transition.float()).clamp(EPS, 1.0 - EPS)
    return -noisy.gather(1, target[:, None]).squeeze(1).log()


def backward_corrected_ce(logits: torch.Tensor, target: torch.Tensor, inverse: torch.Tensor) -> torch.Tensor:
    """Per-sample backward-corrected CE: sum_j (T^-1)[y, j] (-log p_j) — the row of T^-1 of the noisy
    label dotted with the vector of per-class losses (unbiased for the clean loss; may be negative)."""
    p = F.softmax(logits.float(), 1).clamp(EPS, 1.0 - EPS)
    return (inverse.float()[target] * -p.log()).sum(1)


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
