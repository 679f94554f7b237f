"""Generalized label smoothing against CE with the smoothed target (1 - r) onehot + r / C written out."""
import math

import pytest
import torch

from noisyrobust.losses.gls import generalized_label_smoothing

LOGITS = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
Y = torch.tensor([0, 2])


def smoothed_ce(i, r):
    e = [math.exp(v) for v in LOGITS[i].tolist()]
    logp = [math.log(v / sum(e)) for v in e]
    target = [(1 - r) * (k == int(Y[i])) + r / 3 for k in range(3)]
    return -sum(t * lp for t, lp in zip(target, logp))


@pytest.mark.parametrize("r", [0.0, 0.4, -0.2, -2.0])
def test_gls_is_ce_against_the_smoothed_target_negative_rates_included(r):
    got = generalized_label_smoothing(LOGITS, Y, smooth_rate=r)
    assert got.tolist() == pytest.approx([smoothed_ce(0, r), smoothed_ce(1, r)], rel=1e-5)


def test_negative_smoothing_rewards_confidence_beyond_the_one_hot_target():
    confident, less = torch.tensor([[6.0, 0.0, 0.0]]), torch.tensor([[3.0, 0.0, 0.0]])
    y = torch.tensor([0])
    nls = [generalized_label_smoothing(z, y, smooth_rate=-1.0).item() for z in (confident, less)]
    pls = [generalized_label_smoothing(z, y, smooth_rate=0.5).item() for z in (confident, less)]
    assert nls[0] < nls[1] and pls[0] > pls[1]  # positive smoothing prefers the softer prediction here
