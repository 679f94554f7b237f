"""ELR's target update and regularizer against the reference's order written out: clamp, detach and
renormalize, update first, then CE + lambda log(1 - <t, p>) with the updated target."""
import math

import pytest
import torch

from noisyrobust.losses.elr import clamped_softmax, elr_loss, elr_target_update, sigmoid_rampup

LOGITS = torch.tensor([[9.0, 0.0, 0.0], [0.2, 0.1, -0.3]])
Y = torch.tensor([0, 2])


def test_target_update_from_zero_is_one_minus_beta_times_renormalized_clamped_p():
    p = torch.softmax(LOGITS, 1).clamp(1e-4, 1 - 1e-4)
    p_hat = p / p.sum(1, keepdim=True)
    t = elr_target_update(torch.zeros(2, 3), clamped_softmax(LOGITS), beta=0.7)
    assert t.tolist() == [pytest.approx(r, rel=1e-5) for r in (0.3 * p_hat).tolist()]
    t2 = elr_target_update(t, clamped_softmax(LOGITS), beta=0.7)
    assert t2.tolist() == [pytest.approx(r, rel=1e-5) for r in (0.7 * 0.3 * p_hat + 0.3 * p_hat).tolist()]


def test_loss_is_ce_plus_lambda_log_one_minus_inner_product():
    target = torch.tensor([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]])
    got = elr_loss(LOGITS, Y, target, lam=3.0)
    p = torch.softmax(LOGITS, 1).clamp(1e-4, 1 - 1e-4)
    for i in range(2):
        ce = -math.log(torch.softmax(LOGITS, 1)[i, Y[i]])
        reg = math.log(1 - float((target[i] * p[i]).sum()))
        assert got[i].item() == pytest.approx(ce + 3.0 * reg, rel=1e-5)


def test_regularizer_gradient_does_not_reach_the_target():
    logits = LOGITS.clone().requires_grad_(True)
    target = torch.full((2, 3), 1 / 3, requires_grad=True)
    elr_loss(logits, Y, target, lam=1.0).sum().backward()
    assert target.grad is None and logits.grad is not None


def test_sigmoid_rampup():
    assert sigmoid_rampup(0, 0) == 1.0
    assert sigmoid_rampup(0, 100) == pytest.approx(math.exp(-5))
    assert sigmoid_rampup(50, 100) == pytest.approx(math.exp(-5 * 0.25))
    assert sigmoid_rampup(200, 100) == 1.0
