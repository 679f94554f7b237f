"""How well a per-sample score finds the wrong labels, where the clean labels are known."""
from typing import Dict

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


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
    return {"auroc": float(roc_auc_score(is_noisy, score)), "ap": float(average_precision_score(is_noisy, score)),
            "precision_at_k": float(is_noisy[top].mean())}
