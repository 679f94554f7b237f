"""Peer loss (Liu & Guo, ICML 2020, "Peer Loss Functions: Learning from Noisy Labels without Knowing Noise
Rates"): the loss on the sample minus α times the loss on a peer pair, an image and a label drawn independently
of each other, which penalizes fitting labels that carry no information about the image."""
import numpy as np
import torch
import torch.nn.functional as F

STABLE_EPS = 1e-5  # the authors' "stable CE": -log(softmax + 1e-5)

# the authors' α per epoch (CIFAR runner): np.linspace(start, end, count) segments, concatenated
ALPHA_SEGMENTS = {
    "sparse": ((0.0, 0.0, 20), (0.0, 1.0, 20), (1.0, 2.0, 50), (2.0, 5.0, 50), (5.0, 10.0, 100), (10.0, 20.0, 100)),
    "dense": ((0.0, 0.0, 20), (0.0, 0.1, 20), (1.0, 2.0, 50), (2.0, 2.5, 50), (2.5, 3.3, 100), (3.3, 5.0, 100)),
}
PAPER_EPOCHS = 300  # the length of the authors' CIFAR runs


def stable_nll(logits: torch.Tensor, labels: torch.Tensor, *, eps: float = STABLE_EPS) -> torch.Tensor:
    """Per-sample -log(p_y + eps), p = softmax(logits) (bounded by -log eps: a peer term cannot diverge)."""
    return -(F.softmax(logits.float(), 1).gather(1, labels[:, None]).squeeze(1) + eps).log()


def peer_loss(logits: torch.Tensor, labels: torch.Tensor, peer_logits: torch.Tensor, peer_labels: torch.Tensor,
              *, alpha: float) -> torch.Tensor:
    """Per-sample ℓ(f(x_i), y_i) - α ℓ(f(x'_i), y'_i), ℓ = -log(p_y + 1e-5), (x'_i, y'_i) the i-th peer pair."""
    return stable_nll(logits, labels) - alpha * stable_nll(peer_logits, peer_labels)


def peer_alpha(epoch: float, *, schedule: str = "dense") -> float:
    """α at ``epoch`` of the authors' 300-epoch plan (a fractional epoch of a stretched schedule takes the value
    of the epoch it is in): ``sparse`` (their noise rates <= 0.2) 0 for 20 epochs, 0 -> 1 over 20, 1 -> 2 over
    50, 2 -> 5 over 50, 5 -> 10, 10 -> 20 over 100 each; ``dense`` (higher rates) 0, 0 -> 0.1, a jump to 1,
    1 -> 2, 2 -> 2.5, 2.5 -> 3.3, 3.3 -> 5. Each segment is linspace(start, end, count) (340 epochs, of which
    their 300-epoch runs reach epoch 299); the last value after that."""
    table = np.concatenate([np.linspace(a, b, n) for a, b, n in ALPHA_SEGMENTS[schedule]])
    return float(table[min(int(epoch), len(table) - 1)])
