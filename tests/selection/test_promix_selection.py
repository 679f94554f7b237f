"""ProMix's selections against their definitions written out with Python loops."""
import math

import torch

from noisyrobust.selection.promix import (class_wise_small_loss, label_guessing_by_agreement,
                                          matched_high_confidence, rho_schedule)


def test_class_wise_small_loss_keeps_the_smallest_losses_of_each_class():
    g = torch.Generator().manual_seed(0)
    n, c, rho = 60, 3, 0.5
    labels = torch.tensor([0] * 30 + [1] * 25 + [2] * 5)
    loss = torch.rand(n, generator=g)
    among = torch.ones(n, dtype=torch.bool)
    among[[0, 31]] = False  # not training rows: never kept, not counted in N
    kept = class_wise_small_loss(loss, labels, num_classes=c, rho=rho, among=among)
    per_class = math.ceil(among.sum().item() / c * rho)  # ceil(58/3 * 0.5) = 10
    for j in range(c):
        rows = [i for i in range(n) if labels[i] == j and among[i]]
        k = max(min(per_class, len(rows)), 1)
        want = set(sorted(rows, key=lambda i: loss[i].item())[:k])
        assert {i for i in rows if kept[i]} == want
    assert not kept[0] and not kept[31]


def test_rho_interpolates_from_start_to_end():
    assert rho_schedule(0, start=0.7, end=0.5, length=50) == 0.7
    assert abs(rho_schedule(25, start=0.7, end=0.5, length=50) - 0.6) < 1e-12
    assert rho_schedule(80, start=0.7, end=0.5, length=50) == 0.5


def test_matched_high_confidence_is_the_given_labels_probability_above_tau():
    p = torch.tensor([[0.995, 0.005], [0.6, 0.4], [0.001, 0.999]])
    assert matched_high_confidence(p, torch.tensor([0, 0, 0]), tau=0.99).tolist() == [True, False, False]
    assert matched_high_confidence(p, torch.tensor([1, 1, 1]), tau=0.99).tolist() == [False, False, True]


def test_label_guessing_adds_agreeing_confident_rows_best_first_up_to_the_cap():
    p1 = torch.tensor([[0.99, 0.01], [0.97, 0.03], [0.02, 0.98], [0.99, 0.01], [0.5, 0.5], [0.999, 0.001]])
    p2 = torch.tensor([[0.99, 0.01], [0.99, 0.01], [0.01, 0.99], [0.01, 0.99], [0.5, 0.5], [0.999, 0.001]])
    selected = torch.tensor([False, False, False, False, False, True])
    # candidates: 0 (score .99), 1 (.98), 2 (.985); 3 disagrees, 4 not confident, 5 already selected
    added = label_guessing_by_agreement(p1, p2, selected, tau=0.95, cap=3)  # room for 2
    assert added.tolist() == [True, False, True, False, False, False]
    assert not label_guessing_by_agreement(p1, p2, selected, tau=0.95, cap=1).any()  # no room
