"""ProMix's debiasing, targets and prior update, and DISC's supervised loss, against their formulas."""
import math

import torch
import torch.nn.functional as F

from noisyrobust.losses.disc import disc_supervised_loss
from noisyrobust.losses.promix import debiased_logits, debiased_probs, linear_ramp, prior_update, pseudo_targets


def test_debiasing_adds_or_removes_tau_log_prior():
    z, prior = torch.tensor([[1.0, 2.0, 0.5]]), torch.tensor([0.5, 0.3, 0.2])
    assert torch.allclose(debiased_logits(z, prior, tau=0.8), z + 0.8 * prior.log())
    want = torch.exp(z - 0.5 * prior.log())
    assert torch.allclose(debiased_probs(z, prior, tau=0.5), want / want.sum())


def test_pseudo_targets_keep_the_label_on_selected_rows_and_guess_elsewhere():
    onehot = F.one_hot(torch.tensor([0, 1]), 3).float()
    debiased = torch.tensor([[0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])
    t = pseudo_targets(onehot, debiased, torch.tensor([True, False]))
    assert t.tolist() == [[1, 0, 0], [1, 0, 0]]


def test_prior_update_is_an_ema_of_the_mean_and_skips_an_empty_set():
    prior = torch.tensor([[0.5, 0.5], [0.5, 0.5]])
    sums, counts = torch.tensor([[3.0, 1.0], [0.0, 0.0]]), torch.tensor([[4.0], [0.0]])
    out = prior_update(prior, sums, counts, momentum=0.9)
    assert torch.allclose(out[0], 0.9 * prior[0] + 0.1 * torch.tensor([0.75, 0.25]))
    assert torch.equal(out[1], prior[1]) and torch.isfinite(out).all()


def test_linear_ramp():
    assert (linear_ramp(0, 50), linear_ramp(25, 50), linear_ramp(70, 50)) == (0.0, 0.5, 1.0)


def test_disc_loss_weighs_each_set_by_its_share_of_the_batch():
    g = torch.Generator().manual_seed(0)
    lw, ls, y = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g), torch.tensor([0, 1, 2, 3, 0, 1])
    clean = torch.tensor([1, 1, 0, 0, 0, 0], dtype=torch.bool)
    hard = torch.tensor([0, 0, 1, 0, 0, 0], dtype=torch.bool)
    ce = lambda lg, i: -F.log_softmax(lg[i], 0)[y[i]]  # noqa: E731
    gce = lambda lg, i: (1 - max(F.softmax(lg[i], 0)[y[i]].item(), 1e-7) ** 0.7) / 0.7  # noqa: E731
    clean_mean = sum(ce(lw, i) + ce(ls, i) for i in (0, 1)) / 2
    want = 1.0 * clean_mean * 2 / 6 + 0.2 * (gce(lw, 2) + gce(ls, 2)) * 1 / 6
    got = disc_supervised_loss(lw, ls, y, clean, hard, lambda_ce=1.0, lambda_h=0.2, q=0.7)
    assert math.isclose(got.item(), float(want), rel_tol=1e-5)
    none = torch.zeros(6, dtype=torch.bool)
    assert disc_supervised_loss(lw, ls, y, none, none).item() == 0.0
