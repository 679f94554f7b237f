"""CAL's pieces (Zhu et al. 2021) against their formulas written out with NumPy: the alpha schedule, the sieve's
loss, score and distilled labels, the covariance term and the sums its per-(i, j) means come from."""
import numpy as np
import pytest
import torch

from noisyrobust.losses.cal import (alpha_at, class_loss_sums, covariance_term, distilled_labels, peer_term,
                                    sieve_loss, sieve_score)

LOGITS = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.5, 0.5], [12.0, -3.0, -3.0], [0.3, 0.2, 0.1]])
NOISY = torch.tensor([1, 1, 0, 2])
P = torch.softmax(LOGITS, 1).numpy()


def test_alpha_is_zero_then_linear_then_the_target():
    assert [alpha_at(e, 2.0, start=10, end=40) for e in (0, 10, 25, 40, 80)] == pytest.approx([0, 0, 1.0, 2.0, 2.0])


def test_sieve_loss_is_ce_with_eps_minus_alpha_times_the_prior_ce():
    prior = torch.tensor([0.5, 0.3, 0.2])
    expected = [-np.log(P[n, NOISY[n]] + 1e-8) - 0.7 * sum(prior[k].item() * -np.log(P[n, k] + 1e-5) for k in range(3))
                for n in range(4)]
    assert sieve_loss(LOGITS, NOISY, prior, 0.7).tolist() == pytest.approx(expected, rel=1e-5)
    assert peer_term(LOGITS, prior).tolist() == pytest.approx(
        [sum(prior[k].item() * -np.log(P[n, k] + 1e-5) for k in range(3)) for n in range(4)], rel=1e-5)


def test_sieve_keeps_a_label_only_far_below_the_average_class_loss():
    score = sieve_score(LOGITS, NOISY)
    nll = -np.log(P + 1e-8)
    assert score.tolist() == pytest.approx([nll[n, NOISY[n]] - nll[n].mean() for n in range(4)], rel=1e-4)
    assert score[2] < -8 and (score[[0, 1, 3]] > -8).all()  # only the confident sample keeps its label
    previous = torch.tensor([2, 2, 2, 2])
    assert distilled_labels(score, NOISY, LOGITS, previous).tolist() == [0, 1, 0, 0]
    exact = torch.tensor([-8.0, -8.0, -9.0, 0.0])  # exactly -8: the previous label stays
    assert distilled_labels(exact, NOISY, LOGITS, previous).tolist() == [2, 2, 0, 0]


T_HAT = torch.tensor([[0.6, 0.4, 0.0], [0.0, 1.0, 0.0], [0.2, 0.3, 0.5]])
DISTILLED = torch.tensor([0, 1, 0, 2])
SHARE = torch.tensor([0.5, 0.25, 0.25])
MU = torch.tensor([[0.1, 0.2, 0.3], [0.0, 0.5, 0.1], [0.3, 0.3, 0.3]])


def test_covariance_term_written_out():
    l = -np.log(P + 1e-5)
    t, mu = T_HAT.numpy(), MU.numpy()
    total = 0.0
    for i in range(3):
        members = [n for n in range(4) if DISTILLED[n] == i and t[i, NOISY[n]] < 1]  # I_in
        inner = sum((float(NOISY[n] == j) - t[i, j]) * (l[n, j] - mu[i, j]) for n in members for j in range(3))
        total += SHARE[i].item() * inner / max(len(members), 1)
    # sample 1 (distilled 1, noisy 1, T̂_11 = 1) has no positive entry: it is left out
    got = covariance_term(LOGITS, NOISY, DISTILLED, T_HAT, SHARE, MU)
    assert float(got) == pytest.approx(total, rel=1e-5)


def test_class_loss_sums_are_per_distilled_class_over_the_counted_samples():
    sums, counts = class_loss_sums(LOGITS, NOISY, DISTILLED, T_HAT)
    l = -np.log(P + 1e-5)
    assert counts.tolist() == [2, 0, 1]
    assert sums.numpy() == pytest.approx(np.stack([l[0] + l[2], np.zeros(3), l[3]]), rel=1e-5)
