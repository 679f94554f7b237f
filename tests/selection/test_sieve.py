"""CORES²'s sieve statistic, mask and sieved prior against their formulas written out."""
import math

import pytest
import torch

from noisyrobust.selection.sieve import sieve_mask, sieve_statistic, sieved_prior

LOGITS = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3], [3.0, -1.0, -1.0]])
Y = torch.tensor([0, 2, 1])


def test_the_statistic_is_ce_minus_the_uniform_mean_of_minus_log_p_plus_1e_8():
    want = []
    for i in range(3):
        e = [math.exp(v) for v in LOGITS[i].tolist()]
        p = [v / sum(e) for v in e]
        want.append(-math.log(p[int(Y[i])]) - sum(-math.log(pk + 1e-8) for pk in p) / 3)
    got = sieve_statistic(LOGITS, Y)
    assert got.tolist() == pytest.approx(want, rel=1e-5)
    assert got[2] > 0 > got[0]  # a label the net finds unlikely scores high (suspicious)


def test_the_mask_keeps_everything_until_the_sieve_is_on_then_the_statistic_at_most_zero():
    s = torch.tensor([-1.0, 0.0, 0.5])
    assert sieve_mask(s, active=False).tolist() == [True, True, True]
    assert sieve_mask(s, active=True).tolist() == [True, True, False]


def test_the_prior_counts_each_noisy_class_without_its_sieved_samples():
    labels = torch.tensor([0, 0, 0, 1, 1, 2])
    sieved = torch.tensor([True, False, False, False, True, False])
    # pi0 * N = (3, 2, 1); minus the sieved (1, 1, 0) = (2, 1, 1)
    assert sieved_prior(labels, sieved, 3).tolist() == pytest.approx([0.5, 0.25, 0.25])
    assert sieved_prior(labels, torch.zeros(6, dtype=torch.bool), 3).tolist() == pytest.approx([0.5, 1 / 3, 1 / 6])
