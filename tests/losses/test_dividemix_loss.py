"""DivideMix's pieces against the paper written out: sharpening, co-refinement, MixMatch mixing, Lx and Lu
(averaged over classes too), the uniform-prior penalty, the confidence penalty and the λu ramp."""
import math

import pytest
import torch

from noisyrobust.losses.dividemix import (confidence_penalty, lambda_u_ramp, mixmatch, refined_labels,
                                          semi_supervised_loss, sharpen, uniform_prior_penalty)


def test_sharpen():
    p = torch.tensor([[0.6, 0.3, 0.1]])
    expected = [v ** 2 / (0.36 + 0.09 + 0.01) for v in (0.6, 0.3, 0.1)]
    assert sharpen(p, 0.5)[0].tolist() == pytest.approx(expected)


def test_co_refinement():
    onehot, p, w = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.2, 0.8]]), torch.tensor([0.75])
    mix = [0.75 + 0.25 * 0.2, 0.25 * 0.8]
    assert refined_labels(onehot, p, w, temperature=0.5)[0].tolist() == pytest.approx(
        [m ** 2 / (mix[0] ** 2 + mix[1] ** 2) for m in mix])


def test_mixmatch_uses_the_larger_of_lambda_and_one_minus_lambda():
    x, t = torch.tensor([[0.0], [10.0]]), torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    perm = torch.tensor([1, 0])
    mx, mt = mixmatch(x, t, lam=0.3, perm=perm)
    assert mx.flatten().tolist() == pytest.approx([3.0, 7.0])
    assert mt.tolist() == [pytest.approx([0.7, 0.3]), pytest.approx([0.3, 0.7])]


def test_lx_and_lu():
    logits = torch.tensor([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.5, 0.5, 0.0]])
    t = torch.tensor([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])
    lab = torch.tensor([True, False, False])
    lx, lu = semi_supervised_loss(logits, t, lab)
    logp, p = torch.log_softmax(logits, 1), torch.softmax(logits, 1)
    assert lx.item() == pytest.approx(-float((t[0] * logp[0]).sum()), rel=1e-5)
    sq = [float(((p[i] - t[i]) ** 2).sum()) / 3 for i in (1, 2)]  # mean over the classes too
    assert lu.item() == pytest.approx(sum(sq) / 2, rel=1e-5)


def test_uniform_prior_penalty_is_kl_of_uniform_to_mean_prediction():
    logits = torch.tensor([[2.0, 0.0], [1.0, 1.0]])
    mean = torch.softmax(logits, 1).mean(0)
    expected = sum(0.5 * math.log(0.5 / float(m)) for m in mean)
    assert uniform_prior_penalty(logits).item() == pytest.approx(expected, rel=1e-5)
    assert uniform_prior_penalty(torch.zeros(4, 5)).item() == pytest.approx(0.0, abs=1e-6)


def test_confidence_penalty_is_negative_entropy():
    logits = torch.tensor([[1.0, 0.0, -1.0]])
    p = torch.softmax(logits, 1)[0]
    assert confidence_penalty(logits).item() == pytest.approx(float((p * p.log()).sum()), rel=1e-5)


def test_lambda_u_ramp_is_linear_over_16_epochs_after_warmup():
    assert lambda_u_ramp(25, 9.5, warmup=10) == 0
    assert lambda_u_ramp(25, 14.0, warmup=10) == pytest.approx(25 * 4 / 16)
    assert lambda_u_ramp(25, 40.0, warmup=10) == 25


def test_prior_penalty_stays_finite_where_the_mean_softmax_underflows_in_float32():
    # class 2's softmax is e^-120 ≈ 7.7e-53 on every row: 0 in float32, so log(π / p̄) is inf there; in float64 (the
    # reference's formula, sum_c π_c log(π_c / p̄_c), without underflow) it is a finite number
    logits = torch.tensor([[60.0, 0.0, -60.0], [0.0, 60.0, -60.0]])
    assert torch.isinf((torch.log(1 / 3 / torch.softmax(logits, 1).mean(0))).sum())  # the reference in float32
    mean = torch.softmax(logits.double(), 1).mean(0)
    expected = float(sum((1 / 3) * math.log((1 / 3) / float(m)) for m in mean))
    assert uniform_prior_penalty(logits).item() == pytest.approx(expected, rel=1e-6)
