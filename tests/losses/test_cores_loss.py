"""CORES²'s confidence-regularized CE and β plan against their formulas written out."""
import math

import pytest
import torch

from noisyrobust.losses.cores import confidence_regularizer, cores_beta, cores_loss

LOGITS = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
Y = torch.tensor([0, 2])
PRIOR = torch.tensor([0.5, 0.3, 0.2])


def probs(i):
    e = [math.exp(v) for v in LOGITS[i].tolist()]
    return [v / sum(e) for v in e]


def test_the_loss_is_ce_minus_beta_times_the_prior_weighted_minus_log_p_plus_1e_8():
    got = cores_loss(LOGITS, Y, PRIOR, beta=1.5)
    want = [-math.log(probs(i)[int(Y[i])]) - 1.5 * sum(float(PRIOR[k]) * -math.log(probs(i)[k] + 1e-8)
                                                       for k in range(3)) for i in range(2)]
    assert got.tolist() == pytest.approx(want, rel=1e-5)
    assert confidence_regularizer(LOGITS, PRIOR).tolist() == pytest.approx(
        [sum(float(PRIOR[k]) * -math.log(probs(i)[k] + 1e-8) for k in range(3)) for i in range(2)], rel=1e-5)


@pytest.mark.parametrize("epoch, beta", [(0, 0.0), (9, 0.0), (10, 0.0), (11, 2 / 29), (25, 2 * 15 / 29), (39, 2.0),
                                         (40, 2.0), (99, 2.0), (10.9, 0.0), (39.5, 2.0)])
def test_beta_is_zero_for_ten_epochs_then_linspace_0_2_over_30_then_2(epoch, beta):
    assert cores_beta(epoch) == pytest.approx(beta)
    assert cores_beta(epoch, peak=1.0) == pytest.approx(beta / 2)
