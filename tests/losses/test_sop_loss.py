"""SOP's terms against the paper's formulas written out with numbers: the modified prediction, Term 1 (CE,
v detached), Term 2 (MSE with the hard prediction, /B), SOP+'s consistency and class balance."""
import math

import pytest
import torch
import torch.nn.functional as F

from noisyrobust.losses.sop import class_balance_loss, consistency_loss, sop_loss, sop_prediction

LOGITS = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
Y = torch.tensor([1, 1])
U = torch.tensor([[0.5], [0.2]])
V = torch.tensor([[0.3, 0.1, 0.4], [0.0, 0.6, 0.2]])


def modified():
    p = torch.softmax(LOGITS, 1)
    y = F.one_hot(Y, 3).float()
    m = (p + U ** 2 * y - V ** 2 * (1 - y)).clamp(min=1e-4)
    return (m / m.sum(1, keepdim=True).clamp(min=1e-4)).clamp(1e-4, 1)


def test_modified_prediction():
    got = sop_prediction(LOGITS, F.one_hot(Y, 3).float(), U, V)
    assert got.tolist() == [pytest.approx(r, rel=1e-5) for r in modified().tolist()]


def test_loss_is_term1_plus_term2():
    m = modified()
    term1 = -sum(math.log(m[i, Y[i]]) for i in range(2)) / 2
    y = F.one_hot(Y, 3).float()
    hard = F.one_hot(LOGITS.argmax(1), 3).float()
    term2 = float(((hard + (U ** 2 * y).clamp(0, 1) - (V ** 2 * (1 - y)).clamp(0, 1) - y) ** 2).sum()) / 2
    assert sop_loss(LOGITS, Y, U, V).item() == pytest.approx(term1 + term2, rel=1e-5)


def test_v_gets_gradient_from_term2_only_and_u_from_both():
    u, v = U.clone().requires_grad_(True), V.clone().requires_grad_(True)
    onehot = F.one_hot(Y, 3).float()
    # Term 1 alone: v is detached there
    (-(onehot * sop_prediction(LOGITS, onehot, u, v).log()).sum(1).mean()).backward()
    assert u.grad.abs().sum() > 0 and (v.grad is None or v.grad.abs().sum() == 0)
    u.grad = None
    sop_loss(LOGITS, Y, u, v).backward()
    # Term 2's gradient on v: d/dv (hard + U - V - y)^2 = -2 (hard + U - V - y) * 2v on non-label entries, / B
    hard = F.one_hot(LOGITS.argmax(1), 3).float()
    r = hard + (U ** 2 * onehot) - V ** 2 * (1 - onehot) - onehot
    expected = (-2 * r * 2 * V * (1 - onehot)) / 2
    assert v.grad.tolist() == [pytest.approx(row, abs=1e-6) for row in expected.tolist()]


def test_consistency_is_kl_weak_to_strong_through_strong_only():
    weak, strong = torch.tensor([[1.0, 0.0]], requires_grad=True), torch.tensor([[0.0, 1.0]], requires_grad=True)
    p, q = torch.softmax(weak.detach(), 1)[0], torch.softmax(strong.detach(), 1)[0]
    kl = float((p * (p / q).log()).sum())
    loss = consistency_loss(weak, strong)
    assert loss.item() == pytest.approx(kl, rel=1e-5)
    loss.backward()
    assert weak.grad is None and strong.grad.abs().sum() > 0


def test_class_balance_is_uniform_prior_ce_of_the_batch_mean_modified_prediction():
    mean = modified().mean(0)
    expected = -sum(math.log(mean[c]) for c in range(3)) / 3
    assert class_balance_loss(LOGITS, Y, U, V).item() == pytest.approx(expected, rel=1e-5)
