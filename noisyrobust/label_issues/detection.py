"""How well a per-sample score finds the wrong labels, where the clean labels are known."""
from typing import Dict

import numpy as np
from scipy.stats import rankdata


def suspicion_order(score: np.ndarray) -> np.ndarray:
    """Positions from most to least suspicious: higher score first, ties by position, NaN last."""
    key = np.where(np.isnan(score), -np.inf, score)
    return np.lexsort((np.arange(len(score)), -key, np.isnan(score)))


def detection_quality(score: np.ndarray, is_noisy: np.ndarray) -> Dict[str, float]:
    """AUROC and average precision of ``score`` (higher = flagged) against ``is_noisy``, and the precision
    among the top k where k is the number of wrong labels (= recall at k). Rows with a NaN score are left
    out; NaN where there are no wrong labels or no clean ones."""
    ok = ~np.isnan(score)
    score, is_noisy = score[ok], is_noisy[ok].astype(bool)
    k = int(is_noisy.sum())
    if k == 0 or k == len(is_noisy):
        return {"auroc": float("nan"), "ap": float("nan"), "precision_at_k": float("nan")}
    top = suspicion_order(score)[:k]
    return {"auroc": auroc(score, is_noisy), "ap": average_precision(score, is_noisy),
            "precision_at_k": float(is_noisy[top].mean())}


def auroc(score: np.ndarray, positive: np.ndarray) -> float:
    """The area under the ROC curve as the Mann-Whitney statistic: the chance that a positive outscores a
    negative, ties counting half, (Σ rank of the positives − k(k+1)/2) / (k (n − k)), ranks averaged over ties."""
    k, n = int(positive.sum()), len(positive)
    return float((rankdata(score)[positive].sum() - k * (k + 1) / 2) / (k * (n - k)))


def average_precision(score: np.ndarray, positive: np.ndarray) -> float:
    """AP = Σ_t (R_t − R_{t−1}) P_t over the distinct score thresholds t, from the highest: the precision at each
    threshold weighted by the recall it adds (tied scores enter together), as scikit-learn defines it."""
    order = np.argsort(-score, kind="stable")
    hits = np.cumsum(positive[order])
    last_of_tie = np.r_[np.flatnonzero(np.diff(score[order])), len(score) - 1]
    tp = hits[last_of_tie]
    recall, precision = tp / tp[-1], tp / (last_of_tie + 1)
    return float(np.sum(np.diff(recall, prepend=0.0) * precision))
