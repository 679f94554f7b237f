"""GCE's L_q and its truncated variant against (1 - p_y^q)/q written out, and the pruning rule p_y > k."""
import math

import pytest
import torch

from noisyrobust.errors import UserError
from noisyrobust.losses.gce import (GeneralizedCrossEntropy, generalized_cross_entropy, truncated_gce,
                                    truncation_constant, truncation_weights)

LOGITS = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
Y = torch.tensor([0, 2])


def p_label():
    e = LOGITS.exp()
    return [float(e[i, Y[i]] / e[i].sum()) for i in range(2)]


def test_lq_is_one_minus_p_to_the_q_over_q():
    got = generalized_cross_entropy(LOGITS, Y, q=0.7)
    assert got.tolist() == pytest.approx([(1 - p ** 0.7) / 0.7 for p in p_label()], rel=1e-5)


def test_lq_tends_to_ce_as_q_goes_to_zero_and_is_mae_like_at_one():
    assert generalized_cross_entropy(LOGITS, Y, q=1e-4).tolist() == pytest.approx([-math.log(p) for p in p_label()],
                                                                                  rel=1e-3)
    assert generalized_cross_entropy(LOGITS, Y, q=1.0).tolist() == pytest.approx([1 - p for p in p_label()], rel=1e-5)


def test_truncated_loss_subtracts_lq_k_and_zeroes_pruned_samples():
    w = torch.tensor([1.0, 0.0])
    got = truncated_gce(LOGITS, Y, w, q=0.7, k=0.5)
    lqk = (1 - 0.5 ** 0.7) / 0.7
    assert truncation_constant(q=0.7, k=0.5) == pytest.approx(lqk)
    assert got.tolist() == pytest.approx([(1 - p_label()[0] ** 0.7) / 0.7 - lqk, 0.0], rel=1e-5)


def test_pruning_keeps_samples_whose_label_probability_exceeds_k():
    ps = p_label()  # about 0.79 and 0.37
    assert truncation_weights(LOGITS, Y, k=0.5).tolist() == [float(ps[0] > 0.5), float(ps[1] > 0.5)] == [1.0, 0.0]


def test_q_outside_range_is_refused():
    with pytest.raises(UserError, match="q=0"):
        GeneralizedCrossEntropy(q=0)
