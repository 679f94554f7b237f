"""Per-sample scores that find wrong labels, as pure functions of tensors. The report orients every score
so that higher = more likely mislabelled (the sign is applied where the paper's quantity runs the other way)."""
import math

import numpy as np
import torch
from torch import nn


def margins(logits: torch.Tensor, given: torch.Tensor) -> torch.Tensor:
    """Pleiss et al. 2020 (AUM): M = z_y - max_{k != y} z_k, the given label's logit over the largest other."""
    z_y = logits.gather(1, given[:, None]).squeeze(1)
    others = logits.scatter(1, given[:, None], float("-inf"))
    return z_y - others.max(1).values


def area_under_margin(margin_sum: torch.Tensor, first_margin: torch.Tensor, presentations: torch.Tensor) -> torch.Tensor:
    """AUM (Pleiss et al., NeurIPS 2020): the mean margin over a sample's presentations, skipping the first
    (epoch 0, as the reference code does): AUM = (sum_t M_t - M_0) / (T - 1); with one presentation, M_0.
    Low AUM = likely mislabelled."""
    t = presentations.double()
    rest = (margin_sum - first_margin.double()) / (t - 1).clamp(min=1)
    return torch.where(presentations > 1, rest, first_margin.double())


def forgetting_events(forgetting: torch.Tensor, first_learned: torch.Tensor, presentations: torch.Tensor) -> torch.Tensor:
    """Toneva et al., ICLR 2019: the number of transitions from correctly to wrongly classified between
    consecutive presentations; a sample never learned counts as forgotten at every presentation (T)."""
    return torch.where(first_learned < 0, presentations, forgetting)


def first_learned_epoch(first_learned: torch.Tensor, presentations: torch.Tensor) -> torch.Tensor:
    """The first epoch a sample is classified as its given label in training; never learned: T (the count
    of presentations), later than any learned one."""
    return torch.where(first_learned < 0, presentations, first_learned)


def welford_update(count: int, mean: torch.Tensor, m2: torch.Tensor, x: torch.Tensor):
    """One step of Welford's running mean and sum of squared deviations: with n = count + 1,
    mu_n = mu + (x - mu) / n and M2_n = M2 + (x - mu)(x - mu_n). Returns (n, mu_n, M2_n)."""
    count += 1
    delta = x - mean
    mean = mean + delta / count
    return count, mean, m2 + delta * (x - mean)


def input_gradient_spread(mean: torch.Tensor, m2: torch.Tensor, count: int) -> torch.Tensor:
    """VoG before class normalization (Agarwal, D'souza, Hooker, CVPR 2022): from Welford's running
    mean and sum of squared deviations of the input gradients S_t (N x H x W) over K checkpoints,
    VoG_i = mean_pixels sqrt((1/K) sum_t (S_t - mu)^2)."""
    return (m2 / count).clamp(min=0).sqrt().flatten(1).mean(1)


def class_normalize(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(v - mu_c) / sigma_c over the samples with the same label c (VoG's class normalization); a class
    with a single sample or no spread gets 0."""
    out = np.zeros_like(values, dtype=np.float64)
    for c in np.unique(labels):
        m = labels == c
        sd = values[m].std()
        out[m] = (values[m] - values[m].mean()) / sd if sd > 0 else 0.0
    return out


def arccos_kernel(x: np.ndarray) -> np.ndarray:
    """The complexity-gap score's kernel (Ki, Choi, Chung, ICLR 2023) on rows of unit norm:
    H_ij = x_i.x_j (pi - arccos(x_i.x_j)) / (2 pi); the diagonal is 1/2."""
    g = np.clip(x @ x.T, -1.0, 1.0)
    return g * (math.pi - np.arccos(g)) / (2 * math.pi)


def complexity_gap(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """CG(i) = y^T H^-1 y - y_-i^T H_-i^-1 y_-i = ((H^-1 y)_i)^2 / (H^-1)_ii for the kernel H of the
    unit-norm rows of ``x`` (float64) and targets ``y`` in {-1, +1}. High = irregular, likely mislabelled."""
    x = x.astype(np.float64)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    h_inv = np.linalg.inv(arccos_kernel(x))
    return (h_inv @ y) ** 2 / np.diag(h_inv)


def complexity_gap_scores(features: np.ndarray, labels: np.ndarray, *, ratio: float = 1.0, repeats: int = 1,
                          rng: np.random.Generator) -> np.ndarray:
    """The multi-class CG score: for each class c, its n_c samples (+1) against min(n_c * ratio, n_other)
    random samples of the other classes (-1); only class-c samples are scored; averaged over ``repeats``."""
    out = np.zeros(len(labels))
    for c in np.unique(labels):
        own, other = np.flatnonzero(labels == c), np.flatnonzero(labels != c)
        m = min(int(len(own) * ratio), len(other))
        for _ in range(repeats):
            picked = rng.choice(other, m, replace=False)
            idx = np.concatenate([own, picked])
            y = np.concatenate([np.ones(len(own)), -np.ones(m)])
            out[own] += complexity_gap(features[idx], y)[:len(own)] / repeats
    return out


def complexity_gap_bytes(labels: np.ndarray, *, ratio: float = 1.0) -> int:
    """Peak memory of the CG score: the largest per-class system is n = n_c + min(n_c * ratio, n_other),
    and its kernel, inverse and an n x n temporary are float64: 3 * 8 * n^2 bytes."""
    counts = np.bincount(labels)
    n = max(int(c + min(c * ratio, len(labels) - c)) for c in counts if c > 0)
    return 3 * 8 * n * n


def turnover_masks(index: torch.Tensor, width: int) -> torch.Tensor:
    """Turn-over dropout's per-example fixed mask (Kobayashi et al. 2020): a half of ``width`` units chosen
    by a hash of the sample's index (splitmix64 of index and unit), the same in every epoch and process."""
    units = torch.arange(width, device=index.device, dtype=torch.int64)
    h = index.to(torch.int64)[:, None] * 0x9E3779B9 + units[None, :] * 0x85EBCA6B + 0x165667B1
    h = (h ^ (h >> 15)) * 0x2C1B3C6D
    h = (h ^ (h >> 12)) * 0x297A2D39
    return ((h ^ (h >> 15)) & 1).bool()


def self_influence(loss_with_own_half: torch.Tensor, loss_with_other_half: torch.Tensor) -> torch.Tensor:
    """Turn-over dropout self-influence: I(z_i, z_i) = L(z_i; 1 - m_i) - L(z_i; m_i), the loss of sample i
    through the half of the network that never saw it minus through the half trained on it. High = the
    sample is fitted only where it was memorized: likely mislabelled."""
    return loss_with_other_half - loss_with_own_half


def input_gradients(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """d logit_y / d x for each sample (its own logit only: the samples of a batch do not interact in eval
    mode), averaged over the channels: (N, H, W). VoG's S_t."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        logits = net(x)
        (grad,) = torch.autograd.grad(logits.gather(1, y[:, None]).sum(), x)
    return grad.mean(1)
