"""Symmetric cross entropy (Wang et al. 2019): SCE = alpha*CE + beta*RCE, RCE = -sum_k p_k log q_k with
q the one-hot label clamped to [1e-4, 1] (log 0 -> A = ln 1e-4) and p = softmax clamped to [1e-7, 1].
CE is the ordinary (unclamped) cross-entropy, as in the authors' code."""
import math

import numpy as np
import pytest
import torch

from noisyrobust.errors import UserError
from noisyrobust.losses import SymmetricCrossEntropy, reverse_cross_entropy, symmetric_cross_entropy

A = math.log(1e-4)  # ~ -9.2103

LOGITS = [[2.0, 1.0, 0.0],
          [0.0, 0.0, 0.0],
          [1.0, 3.0, -1.0],
          [-2.0, 0.5, 4.0]]
TARGETS = [0, 2, 1, 0]


def softmax(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def ce_by_hand(logits, targets):
    z = np.asarray(logits, dtype=np.float64)
    lse = np.log(np.exp(z - z.max(1, keepdims=True)).sum(1)) + z.max(1)
    return lse - z[np.arange(len(targets)), targets]


def rce_by_hand(logits, targets):
    """-sum_k p_k log q_k, written out literally with the two clamps."""
    p = np.clip(softmax(logits), 1e-7, 1.0)
    q = np.clip(np.eye(p.shape[1])[targets], 1e-4, 1.0)
    return -(p * np.log(q)).sum(axis=1)


def test_log_zero_constant_is_ln_1e_minus_4():
    assert abs(A - (-9.2103)) < 1e-4


def test_reverse_cross_entropy_matches_hand_formula():
    got = reverse_cross_entropy(torch.tensor(LOGITS), torch.tensor(TARGETS))
    assert got.shape == (4,)
    # uniform row: p = 1/3 each, RCE = -A * 2/3
    assert abs(float(got[1]) - (-A * 2 / 3)) < 1e-5
    np.testing.assert_allclose(got.numpy(), rce_by_hand(LOGITS, TARGETS), rtol=1e-5, atol=1e-6)


def test_reverse_cross_entropy_is_bounded_by_minus_a():
    # perfectly wrong: RCE -> -A; perfectly right: RCE -> 0
    got = reverse_cross_entropy(torch.tensor([[0.0, 20.0], [20.0, 0.0]]), torch.tensor([0, 0]))
    assert abs(float(got[0]) - (-A)) < 1e-4
    assert 0.0 <= float(got[1]) < 1e-4


def test_reverse_cross_entropy_confident_wrong_logit_uses_clamped_probabilities():
    # 1000 classes, z = 40 on the wrong class 7, y = 3: every other p_k ~ e^-40 is clamped up to 1e-7.
    # RCE = -A * (p_7 + 998 * 1e-7) ~ 9.2103 + 9.19e-4; without the clamp it would be -A * 1 = 9.2103.
    c = 1000
    z = np.zeros((1, c))
    z[0, 7] = 40.0
    got = float(reverse_cross_entropy(torch.tensor(z, dtype=torch.float32), torch.tensor([3]))[0])
    expected = -A * (1.0 + 998 * 1e-7)
    assert abs(got - rce_by_hand(z, [3])[0]) < 2e-5
    assert abs(got - expected) < 2e-5
    assert abs(got - (-A)) > 5e-4  # the clamp visibly matters


def test_reverse_cross_entropy_confident_right_logit_is_clamp_floor_not_zero():
    # z = 40 on the labelled class of 1000: the 999 other p_k are clamped to 1e-7, RCE = -A * 999e-7
    c = 1000
    z = np.zeros((1, c))
    z[0, 3] = 40.0
    got = float(reverse_cross_entropy(torch.tensor(z, dtype=torch.float32), torch.tensor([3]))[0])
    assert abs(got - (-A * 999e-7)) < 2e-5
    assert got > 5e-4


def test_symmetric_cross_entropy_confident_wrong_logit_combines_unclamped_ce_and_clamped_rce():
    # z = [30, 0, 0], y = 1: CE ~= 30 (unclamped), RCE = -A * (p_0 + clamp(p_2)) = -A * (1 + 1e-7)
    z = [[30.0, 0.0, 0.0]]
    alpha, beta = 0.1, 1.0
    got = float(symmetric_cross_entropy(torch.tensor(z), torch.tensor([1]), alpha=alpha, beta=beta)[0])
    ce = 30.0 + math.log1p(2 * math.exp(-30.0))
    rce = -A * (1.0 + 1e-7)
    assert abs(got - (alpha * ce + beta * rce)) < 1e-4


@pytest.mark.parametrize("alpha,beta", [(0.1, 1.0), (1.0, 0.0), (0.0, 1.0), (6.0, 0.1)])
def test_symmetric_cross_entropy_is_alpha_ce_plus_beta_rce(alpha, beta):
    got = symmetric_cross_entropy(torch.tensor(LOGITS), torch.tensor(TARGETS), alpha=alpha, beta=beta)
    assert got.shape == (4,)
    expected = alpha * ce_by_hand(LOGITS, TARGETS) + beta * rce_by_hand(LOGITS, TARGETS)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_module_defaults_are_cifar10_weights_alpha_0_1_beta_1():
    loss = SymmetricCrossEntropy()
    got = loss(torch.tensor(LOGITS), torch.tensor(TARGETS))
    expected = 0.1 * ce_by_hand(LOGITS, TARGETS) + 1.0 * rce_by_hand(LOGITS, TARGETS)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_module_returns_per_sample_losses_without_reduction():
    loss = SymmetricCrossEntropy(alpha=0.5, beta=2.0)
    got = loss(torch.tensor(LOGITS), torch.tensor(TARGETS))
    assert got.shape == (4,)
    expected = 0.5 * ce_by_hand(LOGITS, TARGETS) + 2.0 * rce_by_hand(LOGITS, TARGETS)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_gradient_is_alpha_ce_grad_plus_beta_rce_grad():
    # no clamp active here: RCE = -A (1 - p_y), so dRCE/dz = A * p_y * (onehot - p); dCE/dz = p - onehot
    alpha, beta = 0.3, 2.0
    logits = torch.tensor(LOGITS, requires_grad=True)
    SymmetricCrossEntropy(alpha=alpha, beta=beta)(logits, torch.tensor(TARGETS)).sum().backward()
    assert logits.grad is not None
    p = softmax(LOGITS)
    onehot = np.eye(3)[TARGETS]
    p_y = p[np.arange(4), TARGETS][:, None]
    expected = alpha * (p - onehot) + beta * A * p_y * (onehot - p)
    np.testing.assert_allclose(logits.grad.numpy(), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("alpha,beta", [(-0.1, 1.0), (0.1, -1.0)])
def test_negative_weight_raises_user_error(alpha, beta):
    with pytest.raises(UserError, match="alpha|beta"):
        SymmetricCrossEntropy(alpha=alpha, beta=beta)
