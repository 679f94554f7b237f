"""Small-loss selection primitives (Han et al. 2018; Yu et al. 2019), checked against masks and numbers
written out by hand: num_to_keep, small_loss_mask (ties, keep-all/none, `among`, tensor keep),
disagreement_mask and masked_mean (a plain mean, not divided twice by the kept count)."""
from fractions import Fraction

import numpy as np
import pytest
import torch

from noisyrobust.selection import disagreement_mask, masked_mean, num_to_keep, small_loss_mask

LOSSES = [0.9, 0.1, 0.5, 0.3, 0.7, 0.2]  # ascending order of positions: 1, 5, 3, 2, 4, 0


def t(values, dtype=torch.float32):
    return torch.tensor(values, dtype=dtype)


def b(values):
    return torch.tensor(values, dtype=torch.bool)


# -- num_to_keep ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("n, rate, expected", [
    (10, 0.9, 1),      # (1 - 0.9) * 10 = 0.9999999999999998 in floats
    (128, 0.2, 102),   # floor(102.4)
    (10, 0.0, 10),
    (10, 1.0, 0),
    (6, 0.5, 3),
    (7, 0.5, 3),       # floor(3.5)
    (100, 0.55, 45),   # (1 - 0.55) * 100 = 44.99999999999999 in floats
    (10, 0.7, 3),
    (0, 0.3, 0),
])
def test_num_to_keep_is_floor_of_kept_share_despite_float_error(n, rate, expected):
    assert num_to_keep(n, rate) == expected


def test_num_to_keep_matches_exact_rational_floor_on_a_grid_of_rates_and_sizes():
    for rate_pct in range(0, 101, 5):
        rate = rate_pct / 100
        for n in range(0, 260):
            exact = (1 - Fraction(rate_pct, 100)) * n
            assert num_to_keep(n, rate) == exact.numerator // exact.denominator, (n, rate)


# -- small_loss_mask -----------------------------------------------------------------------------------
@pytest.mark.parametrize("keep, expected", [
    (1, [False, True, False, False, False, False]),
    (2, [False, True, False, False, False, True]),
    (3, [False, True, False, True, False, True]),
    (5, [False, True, True, True, True, True]),
])
def test_small_loss_mask_keeps_the_k_smallest_losses(keep, expected):
    mask = small_loss_mask(t(LOSSES), keep)
    assert mask.dtype == torch.bool and mask.shape == (6,)
    assert mask.tolist() == expected


def test_small_loss_mask_ties_keep_lower_batch_positions_first():
    losses = t([0.5, 0.2, 0.5, 0.2, 0.5])
    assert small_loss_mask(losses, 1).tolist() == [False, True, False, False, False]
    assert small_loss_mask(losses, 3).tolist() == [True, True, False, True, False]
    assert small_loss_mask(losses, 4).tolist() == [True, True, True, True, False]
    assert small_loss_mask(torch.zeros(4), 2).tolist() == [True, True, False, False]


def test_small_loss_mask_keep_all_and_more_than_batch_keeps_everything():
    assert small_loss_mask(t(LOSSES), 6).tolist() == [True] * 6
    assert small_loss_mask(t(LOSSES), 100).tolist() == [True] * 6


def test_small_loss_mask_keep_zero_keeps_nothing():
    assert small_loss_mask(t(LOSSES), 0).tolist() == [False] * 6


def test_small_loss_mask_among_restricts_selection_to_the_subset():
    among = b([True, False, True, False, True, True])  # candidates 0 (.9), 2 (.5), 4 (.7), 5 (.2)
    assert small_loss_mask(t(LOSSES), 1, among).tolist() == [False, False, False, False, False, True]
    assert small_loss_mask(t(LOSSES), 2, among).tolist() == [False, False, True, False, False, True]
    assert small_loss_mask(t(LOSSES), 3, among).tolist() == [False, False, True, False, True, True]


def test_small_loss_mask_keep_larger_than_among_keeps_exactly_among():
    among = b([True, False, True, False, True, True])
    assert small_loss_mask(t(LOSSES), 5, among).tolist() == among.tolist()
    assert small_loss_mask(t(LOSSES), 6, among).tolist() == among.tolist()


def test_small_loss_mask_keep_zero_or_empty_among_keeps_nothing():
    among = b([True, False, True, False, True, True])
    assert small_loss_mask(t(LOSSES), 0, among).tolist() == [False] * 6
    assert small_loss_mask(t(LOSSES), 3, torch.zeros(6, dtype=torch.bool)).tolist() == [False] * 6


def test_small_loss_mask_among_ties_skip_excluded_lower_positions():
    among = b([False, True, True, False])
    assert small_loss_mask(torch.zeros(4), 1, among).tolist() == [False, True, False, False]


def test_small_loss_mask_among_handles_huge_candidate_losses():
    losses = t([1e30, 0.1, 3e38, 0.2])
    among = b([True, False, True, False])
    assert small_loss_mask(losses, 1, among).tolist() == [True, False, False, False]
    assert small_loss_mask(losses, 2, among).tolist() == [True, False, True, False]


@pytest.mark.parametrize("keep", [torch.tensor(3), torch.tensor(3.0), torch.tensor(3.0).floor()])
def test_small_loss_mask_accepts_a_zero_dim_tensor_keep(keep):
    assert small_loss_mask(t(LOSSES), keep).tolist() == [False, True, False, True, False, True]
    among = b([True, False, True, False, True, True])
    assert small_loss_mask(t(LOSSES), keep, among).tolist() == [False, False, True, False, True, True]


def test_small_loss_mask_carries_no_gradient():
    w = torch.tensor(LOSSES, requires_grad=True)
    losses = w * 2.0
    mask = small_loss_mask(losses, 3)
    assert not mask.requires_grad and mask.grad_fn is None
    among = b([True, False, True, False, True, True])
    mask = small_loss_mask(losses, 2, among)
    assert not mask.requires_grad and mask.grad_fn is None
    assert w.grad is None


# -- masked_mean ---------------------------------------------------------------------------------------
def test_masked_mean_is_plain_mean_over_kept_values():
    values = t([1.0, 2.0, 3.0, 4.0])
    assert masked_mean(values, b([True, False, True, False])).item() == pytest.approx((1 + 3) / 2)
    assert masked_mean(values, b([False, True, True, True])).item() == pytest.approx((2 + 3 + 4) / 3)
    assert masked_mean(values, b([True, True, True, True])).item() == pytest.approx(2.5)
    assert masked_mean(values, b([False, False, False, True])).item() == pytest.approx(4.0)


def test_masked_mean_of_empty_mask_is_zero():
    values = t([1.0, 2.0, 3.0])
    assert masked_mean(values, torch.zeros(3, dtype=torch.bool)).item() == 0.0


def test_masked_mean_gradient_reaches_only_kept_entries_with_weight_one_over_k():
    w = torch.tensor(LOSSES, requires_grad=True)
    mask = small_loss_mask(w, 3)  # positions 1, 3, 5
    masked_mean(w, mask).backward()
    np.testing.assert_allclose(w.grad.numpy(), [0, 1 / 3, 0, 1 / 3, 0, 1 / 3], rtol=1e-6)


def test_masked_mean_of_empty_mask_gives_zero_gradient():
    w = torch.tensor(LOSSES, requires_grad=True)
    masked_mean(w * 3.0, torch.zeros(6, dtype=torch.bool)).backward()
    assert w.grad.tolist() == [0.0] * 6


# -- disagreement_mask ---------------------------------------------------------------------------------
def test_disagreement_mask_flags_samples_whose_argmax_differs():
    logits1 = t([[2.0, 1.0, 0.0],    # class 0
                 [0.0, 3.0, 1.0],    # class 1
                 [0.1, 0.2, 0.3],    # class 2
                 [5.0, -1.0, 4.0]])  # class 0
    logits2 = t([[9.0, 1.0, 0.0],    # class 0 (agree, other scale)
                 [0.0, 1.0, 3.0],    # class 2
                 [0.3, 0.2, 0.1],    # class 0
                 [1.0, -1.0, 0.0]])  # class 0
    assert disagreement_mask(logits1, logits2).tolist() == [False, True, True, False]


def test_disagreement_mask_is_empty_for_identical_predictions():
    logits = t([[1.0, 0.0], [0.0, 1.0], [3.0, 2.0]])
    assert disagreement_mask(logits, 2 * logits).tolist() == [False, False, False]
