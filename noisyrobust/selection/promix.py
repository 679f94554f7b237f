"""ProMix's clean-sample selection (Xiao et al., IJCAI 2023, "ProMix: Combating Label Noise via Maximizing
Clean Sample Utility"): class-wise small loss once per epoch, matched high confidence and label guessing by
agreement within each batch. Masks on the device; ties keep the lower index (stable sorts)."""
import math

import torch


def class_wise_small_loss(loss: torch.Tensor, labels: torch.Tensor, *, num_classes: int, rho: float,
                          among: torch.Tensor) -> torch.Tensor:
    """CSS: for every class j of the given labels, the k_j = max(min(ceil(N/C rho), n_j), 1) samples of
    smallest loss among the n_j labelled j (N = number of samples ``among``, the rows that take part; the
    others are never kept). Returns a boolean mask over all rows."""
    n = int(among.sum())
    per_class = math.ceil(n / num_classes * rho)
    key = loss.masked_fill(~among, float("inf"))
    by_loss = torch.argsort(key, stable=True)
    order = by_loss[torch.argsort(labels[by_loss], stable=True)]  # grouped by class, by loss within
    sorted_labels = labels[order]
    everywhere = torch.bincount(labels, minlength=num_classes)
    rank = torch.arange(len(order), device=loss.device) - (everywhere.cumsum(0) - everywhere)[sorted_labels]
    keep = torch.bincount(labels[among], minlength=num_classes).clamp(max=per_class).clamp(min=1)
    kept = torch.zeros_like(among)
    kept[order] = rank < keep[sorted_labels]
    return kept & among


def rho_schedule(epoch: int, *, start: float, end: float, length: int) -> float:
    """rho(t) = start + (end - start) clip(t / length, 0, 1): the share of each class CSS keeps."""
    return start + (end - start) * min(max(epoch / max(length, 1), 0.0), 1.0)


def matched_high_confidence(probs: torch.Tensor, labels: torch.Tensor, *, tau: float) -> torch.Tensor:
    """MHCS: p(given label) > tau, p the softmax of the main head."""
    return probs.gather(1, labels[:, None]).squeeze(1) > tau


def label_guessing_by_agreement(probs1: torch.Tensor, probs2: torch.Tensor, selected: torch.Tensor, *,
                                tau: float, cap: int) -> torch.Tensor:
    """LGA: the unselected rows on which both networks predict the same class with confidence
    s = (max p1 + max p2) / 2 > tau, the highest s first, as many as keep the selected count at most ``cap``
    (floor(threshold B)). Returns the mask of the rows added."""
    agree = probs1.argmax(1) == probs2.argmax(1)
    score = (probs1.amax(1) + probs2.amax(1)) / 2
    candidate = agree & (score > tau) & ~selected
    room = (cap - selected.sum()).clamp(min=0)
    order = torch.argsort(score.masked_fill(~candidate, -1.0), descending=True, stable=True)
    rank = torch.empty_like(order)
    rank[order] = torch.arange(len(order), device=order.device)
    return candidate & (rank < room)
