"""RHO-LOSS selection rules (Mindermann et al. 2022) against masks written out by hand: top-k reducible
loss, top-k loss, bottom-k irreducible loss, uniform draws; ties to the lower position; keep edges; the
keep count; kept positions as an index of known size; and no host sync on a GPU."""
import pytest
import torch

from noisyrobust.selection import (SELECTION_RULES, high_loss_mask, keep_count, kept_positions, low_irreducible_mask,
                                   reducible_loss_mask, select_mask, uniform_mask)

LOSS = [2.0, 0.5, 1.5, 3.0, 1.0, 2.5]
IL = [0.5, 0.1, 1.4, 2.8, 0.2, 0.5]
# LOSS - IL = [1.5, 0.4, 0.1, 0.2, 0.8, 2.0]: descending positions 5, 0, 4, 1, 3, 2
# LOSS descending: 3, 5, 0, 2, 4, 1;  IL ascending: 1, 4, 0, 5 (tie 0.5: lower position first), 2, 3


def t(values):
    return torch.tensor(values, dtype=torch.float32)


def mask_of(positions, n=6):
    return [i in set(positions) for i in range(n)]


@pytest.mark.parametrize("keep, positions", [(1, [5]), (2, [5, 0]), (3, [5, 0, 4]), (5, [5, 0, 4, 1, 3]),
                                             (6, [0, 1, 2, 3, 4, 5])])
def test_reducible_loss_keeps_the_largest_loss_minus_irreducible_loss(keep, positions):
    assert reducible_loss_mask(t(LOSS), t(IL), keep).tolist() == mask_of(positions)


def test_reducible_loss_is_not_the_loss_alone_nor_the_irreducible_loss_alone():
    # position 3 has the highest loss but a high IL (a noisy label the holdout model cannot fit either)
    assert reducible_loss_mask(t(LOSS), t(IL), 2).tolist() != high_loss_mask(t(LOSS), 2).tolist()
    assert not reducible_loss_mask(t(LOSS), t(IL), 2)[3]


@pytest.mark.parametrize("keep, positions", [(1, [3]), (2, [3, 5]), (4, [3, 5, 0, 2])])
def test_loss_rule_keeps_the_largest_losses(keep, positions):
    assert high_loss_mask(t(LOSS), keep).tolist() == mask_of(positions)


@pytest.mark.parametrize("keep, positions", [(1, [1]), (3, [1, 4, 0]), (4, [1, 4, 0, 5])])
def test_irreducible_rule_keeps_the_smallest_irreducible_losses_ties_to_the_lower_position(keep, positions):
    assert low_irreducible_mask(t(IL), keep).tolist() == mask_of(positions)


@pytest.mark.parametrize("loss, il, keep, positions", [
    ([1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0], 2, [0, 1]),   # all tied: the first positions
    ([0.5, 2.0, 2.0, 2.0], [0.0, 0.0, 0.0, 0.0], 2, [1, 2]),
    ([3.0, 2.0, 1.0, 0.0], [3.0, 2.0, 1.0, 0.0], 1, [0]),      # reducible loss 0 everywhere
    ([1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 2.0, 3.0], 3, [0, 1, 2]),
])
def test_ties_keep_the_lower_batch_position(loss, il, keep, positions):
    assert reducible_loss_mask(t(loss), t(il), keep).tolist() == mask_of(positions, 4)


def test_masks_carry_no_gradient():
    loss = t(LOSS).requires_grad_()
    mask = reducible_loss_mask(loss, t(IL), 2)
    assert mask.dtype == torch.bool and not mask.requires_grad


@pytest.mark.parametrize("n, ratio, expected", [
    (320, 0.1, 32),   # the paper: 32 of 320
    (160, 0.1, 16),   # a rank's half of the global batch under 2-process DDP
    (128, 0.1, 13),   # 12.8
    (10, 0.25, 3),    # 2.5: halves round up
    (25, 0.1, 3),     # 2.5000000000000004 in floats
    (15, 0.1, 2),     # 1.5
    (10, 0.01, 1),    # at least one point
    (7, 1.0, 7),      # everything
    (1, 0.1, 1),
])
def test_keep_count_is_the_rounded_share_and_at_least_one(n, ratio, expected):
    assert keep_count(n, ratio) == expected


def test_uniform_mask_keeps_exactly_keep_and_follows_its_generator():
    draws = []
    for seed in (0, 0, 1):
        g = torch.Generator().manual_seed(seed)
        draws.append(uniform_mask(10, 3, generator=g))
    assert all(int(m.sum()) == 3 for m in draws)
    assert draws[0].tolist() == draws[1].tolist()
    # by definition: the 3 smallest of 10 uniform draws of a generator with the same seed
    u = torch.rand(10, generator=torch.Generator().manual_seed(0))
    assert draws[0].tolist() == mask_of(torch.argsort(u)[:3].tolist(), 10)


def test_uniform_mask_selects_every_position_equally_often():
    g = torch.Generator().manual_seed(123)
    counts = sum(uniform_mask(10, 3, generator=g).float() for _ in range(4000))
    # each position is kept with probability 0.3: 4000 draws, sd = sqrt(4000 * 0.21) ≈ 29; 5 sd
    assert ((counts - 1200).abs() < 145).all(), counts


def test_select_mask_dispatches_to_each_rule():
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    expected = {"reducible_loss": mask_of([5, 0]), "loss": mask_of([3, 5]), "irreducible": mask_of([1, 4]),
                "uniform": uniform_mask(6, 2, generator=g1).tolist()}
    assert set(expected) == set(SELECTION_RULES)
    for rule, mask in expected.items():
        assert select_mask(rule, loss=t(LOSS), irreducible=t(IL), keep=2, generator=g2 if rule == "uniform"
                           else None).tolist() == mask, rule
    with pytest.raises(ValueError, match="unknown selection rule 'smallest'"):
        select_mask("smallest", loss=t(LOSS), irreducible=t(IL), keep=2)


@pytest.mark.parametrize("mask, keep, positions", [
    ([False, True, False, True, True], 3, [1, 3, 4]),
    ([True, False, False, False, False], 1, [0]),
    ([True, True, True], 3, [0, 1, 2]),
])
def test_kept_positions_are_the_ascending_positions_of_the_mask(mask, keep, positions):
    assert kept_positions(torch.tensor(mask), keep).tolist() == positions


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_selection_on_the_gpu_never_syncs_with_the_host():
    device = torch.device("cuda")
    loss, il = t(LOSS).to(device), t(IL).to(device)
    x = torch.randn(6, 4, device=device)
    g = torch.Generator(device=device).manual_seed(0)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for rule in SELECTION_RULES:
            kept = select_mask(rule, loss=loss, irreducible=il, keep=2, generator=g)
            x[kept_positions(kept, 2)].sum()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert select_mask("reducible_loss", loss=loss, irreducible=il, keep=2).tolist() == mask_of([5, 0])
