"""Each per-sample score against its formula written out here, on tiny hand-made inputs (ties and
never-learned samples included)."""
import math

import numpy as np
import pytest
import torch

from noisyrobust.label_issues.dynamics import TrainingDynamics
from noisyrobust.label_issues.scores import (arccos_kernel, class_normalize, complexity_gap, complexity_gap_bytes,
                                            complexity_gap_scores, input_gradient_spread, margins, self_influence,
                                            turnover_masks, welford_update)


def test_margin_is_the_given_logit_over_the_largest_other_and_zero_on_a_tie():
    logits = torch.tensor([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 1.0, 0.0]])
    assert margins(logits, torch.tensor([0, 2, 0])).tolist() == [1.0, -2.0, 0.0]


def logits_for(correct_pattern, margin):
    """Two-class logits whose prediction is class 0 (the given label) iff ``correct``, with margin +-m."""
    return torch.tensor([[margin, 0.0] if c else [0.0, margin] for c in correct_pattern])


def test_training_dynamics_against_forgetting_events_aum_and_first_learned_by_hand():
    # four samples, all labelled 0; sample 3 is never trained on (validation, say)
    #   epoch:      0      1      2      3
    # s0 correct:   1      1      1      1     -> 0 forgettings, learned at 0
    # s1 correct:   1      0      1      0     -> 2 forgettings (1->0 twice), learned at 0
    # s2 correct:   0      0      0      0     -> never learned: forgetting = first_learned = 4 presentations
    patterns = [[1, 1, 1, 1], [1, 0, 1, 0], [0, 0, 0, 0]]
    m = [[0.5, 1.0, 2.0, 3.0], [1.0, 2.0, 0.5, 1.5], [2.0, 1.0, 1.0, 4.0]]
    dyn = TrainingDynamics(4, 2)
    given = torch.zeros(3, dtype=torch.long)
    for epoch in range(4):
        correct = [p[epoch] for p in patterns]
        logits = torch.stack([logits_for([c], m[s][epoch])[0] for s, c in enumerate(correct)])
        dyn.record(torch.tensor([2, 0, 1]), logits[[2, 0, 1]], given, epoch)  # rows arrive in any order
        dyn.end_epoch()
    s = dyn.scores()
    assert s["forgetting"][:3].tolist() == [0, 2, 4]
    assert s["first_learned"][:3].tolist() == [0, 0, 4]
    signed = [[mm if c else -mm for mm, c in zip(ms, p)] for ms, p in zip(m, patterns)]
    aum = [np.mean(row[1:]) for row in signed]  # epoch 0 skipped
    np.testing.assert_allclose(s["aum"][:3], -np.array(aum), rtol=1e-6)
    ce = [[math.log1p(math.exp(-v)) for v in row] for row in signed]  # CE of 2 logits with margin v
    np.testing.assert_allclose(s["loss"][:3], [np.mean(r) for r in ce], rtol=1e-5)
    assert all(np.isnan(s[k][3]) for k in s)  # never presented: no score


def test_aum_of_a_single_presentation_is_its_margin():
    dyn = TrainingDynamics(1, 3)
    dyn.record(torch.tensor([0]), torch.tensor([[1.0, 3.0, 0.5]]), torch.tensor([0]), 0)
    dyn.end_epoch()
    assert dyn.scores()["aum"][0] == pytest.approx(2.0)  # -(1 - 3)


def test_trajectories_hold_each_epochs_rows_and_nan_for_unseen():
    dyn = TrainingDynamics(3, 2, keep_trajectories=True)
    for epoch in range(2):
        dyn.record(torch.tensor([0, 2]), torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 0]), epoch)
        dyn.end_epoch()
    loss = np.stack(dyn.trajectories["loss"])
    assert loss.shape == (2, 3) and np.isnan(loss[:, 1]).all()
    assert np.stack(dyn.trajectories["correct"])[:, [0, 2]].tolist() == [[1, 0], [1, 0]]


def test_welford_gives_the_population_variance_and_vog_its_pixel_mean_of_std():
    rng = np.random.default_rng(0)
    s = rng.normal(size=(5, 4, 3, 3))  # K=5 checkpoints of N=4 samples' 3x3 gradient maps
    count, mean, m2 = 0, torch.zeros(4, 3, 3, dtype=torch.float64), torch.zeros(4, 3, 3, dtype=torch.float64)
    for t in s:
        count, mean, m2 = welford_update(count, mean, m2, torch.tensor(t))
    expected = np.sqrt(((s - s.mean(0)) ** 2).mean(0)).reshape(4, -1).mean(1)
    np.testing.assert_allclose(input_gradient_spread(mean, m2, count).numpy(), expected, rtol=1e-10)


def test_class_normalization_is_per_label_z_score_and_zero_without_spread():
    v = np.array([1.0, 3.0, 10.0, 10.0, 5.0])
    out = class_normalize(v, np.array([0, 0, 1, 1, 2]))
    assert out.tolist() == [-1.0, 1.0, 0.0, 0.0, 0.0]


def test_arccos_kernel_entries_and_half_diagonal():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [np.sqrt(0.5), np.sqrt(0.5)]])
    h = arccos_kernel(x)
    assert np.allclose(np.diag(h), 0.5)
    assert h[0, 1] == pytest.approx(0.0)  # orthogonal: g = 0
    g = np.sqrt(0.5)
    assert h[0, 2] == pytest.approx(g * (math.pi - math.acos(g)) / (2 * math.pi))


def test_complexity_gap_closed_form_equals_leaving_each_sample_out():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 5))
    y = np.array([1, 1, 1, -1, -1, 1, -1], dtype=float)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    h = arccos_kernel(unit)
    full = y @ np.linalg.solve(h, y)
    loo = [full - np.delete(y, i) @ np.linalg.solve(np.delete(np.delete(h, i, 0), i, 1), np.delete(y, i))
           for i in range(7)]
    np.testing.assert_allclose(complexity_gap(x, y), loo, rtol=1e-8)


def test_complexity_gap_scores_a_sample_inside_the_other_class_highest():
    rng = np.random.default_rng(2)
    a = rng.normal(loc=(4, 0, 1), scale=0.3, size=(12, 3))
    b = rng.normal(loc=(-4, 0, 1), scale=0.3, size=(12, 3))
    features = np.concatenate([a, b])
    labels = np.array([0] * 12 + [1] * 12)
    labels[3] = 1  # a class-0 point labelled 1
    cg = complexity_gap_scores(features, labels, rng=np.random.default_rng(0))
    assert int(np.argmax(cg)) == 3


def test_complexity_gap_memory_is_three_float64_matrices_of_the_largest_class_system():
    labels = np.array([0] * 30 + [1] * 10)
    assert complexity_gap_bytes(labels) == 3 * 8 * (30 + 10) ** 2  # class 0: 30 own + min(30, 10) others
    assert complexity_gap_bytes(labels, ratio=0.5) == 3 * 8 * max(30 + 10, 10 + 5) ** 2


def test_turnover_masks_are_fixed_per_index_about_half_and_differ_between_samples():
    index = torch.arange(2000)
    m = turnover_masks(index, 64)
    assert torch.equal(m, turnover_masks(index, 64))  # the same in every epoch and process
    assert torch.equal(m[5], turnover_masks(torch.tensor([5]), 64)[0])  # depends on the index alone
    share = m.float().mean().item()
    assert abs(share - 0.5) < 4 * math.sqrt(0.25 / m.numel())  # 4 sigma of a fair coin
    assert len({tuple(r.tolist()) for r in m[:200]}) == 200


def test_self_influence_is_the_other_halfs_loss_minus_the_own_halfs():
    assert self_influence(torch.tensor([0.1, 2.0]), torch.tensor([3.0, 2.5])).tolist() == pytest.approx([2.9, 0.5])


def test_logits_of_lower_precision_are_recorded_as_float32():
    dyn = TrainingDynamics(2, 2)
    dyn.record(torch.tensor([1]), torch.tensor([[2.0, 0.0]], dtype=torch.bfloat16), torch.tensor([0]), 0)
    dyn.end_epoch()
    assert dyn.scores()["aum"][1] == pytest.approx(-2.0)


def test_queued_records_equal_writing_each_batch_with_a_rows_last_record_winning(monkeypatch):
    """Records are queued and scattered together (every WRITE_EVERY batches and at the epoch's end): the
    epoch's rows equal those written batch by batch, where a row recorded twice keeps its later record."""
    monkeypatch.setattr(TrainingDynamics, "WRITE_EVERY", 3)
    g = torch.Generator().manual_seed(0)
    batches = [torch.tensor([3, 1]), torch.tensor([4, 3]), torch.tensor([0, 3]), torch.tensor([2, 3])]  # row 3: 4 times
    dyn, expected_logits, expected_given = TrainingDynamics(5, 3), torch.zeros(5, 3), torch.zeros(5, dtype=torch.long)
    for index in batches:
        logits, given = torch.randn(len(index), 3, generator=g), torch.randint(0, 3, (len(index),), generator=g)
        dyn.record(index, logits, given, epoch=0)
        expected_logits[index], expected_given[index] = logits, given
    assert len(dyn._queue) == 1  # three batches written together, the last still queued
    state = dyn.state()["pending"]  # a checkpoint mid-epoch holds every record so far
    assert torch.equal(state["logits"], expected_logits) and torch.equal(state["given"], expected_given)
    dyn.end_epoch()
    ce = torch.nn.functional.cross_entropy(expected_logits, expected_given, reduction="none")
    np.testing.assert_allclose(dyn.scores()["loss"], ce.numpy(), rtol=1e-6)
