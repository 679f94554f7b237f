"""Sparse over-parameterization (Liu et al., ICML 2022, "Robust Training under Label Noise by
Over-parameterization"): each sample i carries u_i (scalar) and v_i (C values); s_i = u_i² y_i - v_i² ⊙ (1 - y_i)
models the noise on its label."""
import torch
import torch.nn.functional as F

CLAMP = 1e-4


def sop_corrections(onehot: torch.Tensor, u: torch.Tensor, v: torch.Tensor):
    """(U, V) = (clamp(u² y, 0, 1), clamp(v² ⊙ (1 - y), 0, 1)); u is (B, 1), v is (B, C)."""
    return (u ** 2 * onehot).clamp(0, 1), (v ** 2 * (1 - onehot)).clamp(0, 1)


def sop_prediction(logits: torch.Tensor, onehot: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The modified prediction clamp(softmax + U - V.detach(), 1e-4), L1-normalized (eps 1e-4), clamped
    to [1e-4, 1]: gradients reach the network and u (v is detached here)."""
    big_u, big_v = sop_corrections(onehot, u, v)
    p = (F.softmax(logits.float(), 1) + big_u - big_v.detach()).clamp(min=CLAMP)
    return F.normalize(p, p=1, dim=1, eps=CLAMP).clamp(CLAMP, 1.0)


def sop_loss(logits: torch.Tensor, labels: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Term 1 + Term 2 over the batch: -mean_i log(modified prediction)_{i,y_i} + (1/B) sum_i
    ||onehot(argmax f(x_i)) + U_i - V_i - y_i||² (the one-hot of the prediction without gradient, so
    Term 2 trains u and v only)."""
    onehot = F.one_hot(labels, logits.shape[1]).float()
    term1 = -(onehot * sop_prediction(logits, onehot, u, v).log()).sum(1).mean()
    big_u, big_v = sop_corrections(onehot, u, v)
    hard = F.one_hot(logits.detach().argmax(1), logits.shape[1]).float()
    term2 = ((hard + big_u - big_v - onehot) ** 2).sum() / len(labels)
    return term1 + term2


def consistency_loss(weak_logits: torch.Tensor, strong_logits: torch.Tensor) -> torch.Tensor:
    """SOP+: mean_i KL(softmax(weak).detach() ‖ softmax(strong)), gradient through the strong view only."""
    p = F.softmax(weak_logits.detach().float(), 1)
    return (p * (p.clamp(min=1e-12).log() - F.log_softmax(strong_logits.float(), 1))).sum(1).mean()


def class_balance_loss(logits: torch.Tensor, labels: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """SOP+: sum_c -(1/C) log(mean_i modified prediction_ic, clamped >= 1e-4): CE of the uniform prior
    against the batch-mean modified prediction."""
    onehot = F.one_hot(labels, logits.shape[1]).float()
    mean = sop_prediction(logits, onehot, u, v).mean(0).clamp(min=CLAMP)
    return -mean.log().mean()
