"""f-divergence losses (Wei & Liu, ICLR 2021, "When Optimizing f-Divergence is Robust with Label Noise"): the
variational form of D_f between the joint distribution of (image, noisy label) and the product of its
marginals, estimated on the sample (the joint) and on a peer pair (the product)."""
import math

import torch
import torch.nn.functional as F

from noisyrobust.errors import UserError


def _softplus_neg(x: torch.Tensor) -> torch.Tensor:
    return F.softplus(-x)  # log(1 + e^{-x})


# name -> (g, f*∘g): the activation of the variational function and the conjugate at it (the authors' code)
DIVERGENCES = {
    "total_variation": (lambda x: torch.tanh(x) / 2, lambda x: torch.tanh(x) / 2),
    "kl": (lambda x: x, lambda x: torch.exp(x - 1)),
    "jensen_shannon": (lambda x: math.log(2.0) - _softplus_neg(x), lambda x: x + _softplus_neg(x) - math.log(2.0)),
    "pearson": (lambda x: x, lambda x: x ** 2 / 4 + x),
    "jeffrey": (lambda x: x, lambda x: x + x ** 2 / 4 + x ** 3 / 16),
}


def check_divergence(name: str) -> None:
    if name not in DIVERGENCES:
        raise UserError(f"method.divergence={name!r} is not one of {', '.join(DIVERGENCES)}")


def f_divergence_loss(logits: torch.Tensor, labels: torch.Tensor, peer_logits: torch.Tensor,
                      peer_labels: torch.Tensor, *, divergence: str) -> torch.Tensor:
    """Per-sample -g(p_y(x_i)) + f*(g(p_{y'}(x'_i))), p = softmax(logits) (a probability, no epsilon, as the
    authors), (x'_i, y'_i) the i-th peer pair; its mean is minus the variational estimate of D_f."""
    g, conjugate = DIVERGENCES[divergence]
    p = F.softmax(logits.float(), 1).gather(1, labels[:, None]).squeeze(1)
    p_peer = F.softmax(peer_logits.float(), 1).gather(1, peer_labels[:, None]).squeeze(1)
    return -g(p) + conjugate(p_peer)
