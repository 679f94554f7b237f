"""The transition module: forward/backward correction against -log (p^T T)_y and (T^-1)_y · (-log p) written out; the anchor-point
estimator on a hand-made prediction matrix; refusals of matrices that are not row-stochastic or singular."""
import numpy as np
import pytest
import torch

from noisyrobust.errors import UserError
from noisyrobust.losses.transition import (backward_corrected_ce, check_transition, estimate_transition,
                                           forward_corrected_ce, log_volume, noisy_prediction, realized_transition,
                                           reweighted_ce, volume_transition)

T = torch.tensor([[0.8, 0.2, 0.0], [0.1, 0.7, 0.2], [0.0, 0.3, 0.7]])
LOGITS = torch.tensor([[1.0, 0.0, -1.0], [0.0, 2.0, 0.5]])
Y = torch.tensor([1, 2])


def test_forward_is_minus_log_of_the_noisy_class_probability():
    p = torch.softmax(LOGITS, 1).numpy()
    expected = [-np.log(sum(p[i, c] * T[c, Y[i]].item() for c in range(3))) for i in range(2)]
    assert forward_corrected_ce(LOGITS, Y, T).tolist() == pytest.approx(expected, rel=1e-5)


def test_backward_is_the_inverse_row_dotted_with_the_class_losses():
    p = torch.softmax(LOGITS, 1).numpy()
    inv = np.linalg.inv(T.numpy())
    expected = [sum(inv[Y[i], j] * -np.log(p[i, j]) for j in range(3)) for i in range(2)]
    assert backward_corrected_ce(LOGITS, Y, torch.as_tensor(inv)).tolist() == pytest.approx(expected, rel=1e-4)


def test_identity_transition_gives_plain_cross_entropy():
    ce = torch.nn.functional.cross_entropy(LOGITS, Y, reduction="none")
    assert forward_corrected_ce(LOGITS, Y, torch.eye(3)).tolist() == pytest.approx(ce.tolist(), rel=1e-5)
    assert backward_corrected_ce(LOGITS, Y, torch.eye(3)).tolist() == pytest.approx(ce.tolist(), rel=1e-5)


def test_anchor_points_with_and_without_the_percentile_filter():
    # 100 samples, p(0|x) in [0.1, 0.8] but for four high ones; the 97th percentile ("higher") is 0.95, so the
    # filtered anchor of class 0 is the 0.9 sample, the plain one the 0.99 sample
    rng = np.random.default_rng(0)
    p0 = rng.uniform(0.1, 0.8, 100)
    p0[[7, 8, 9, 10]] = [0.99, 0.97, 0.95, 0.9]
    probs = np.stack([p0, 1 - p0], 1)
    plain = estimate_transition(probs, filter_outlier=False)
    assert plain[0].tolist() == pytest.approx([0.99, 0.01])
    filtered = estimate_transition(probs, filter_outlier=True, percentile=97)
    assert filtered[0].tolist() == pytest.approx([0.9, 0.1])
    assert filtered[1].tolist() == pytest.approx(probs[np.argsort(probs[:, 1])[-4]].tolist())  # 4th highest p(1|x)
    assert np.allclose(filtered.sum(1), 1) and np.allclose(probs[:, 0], p0)  # the input is not changed


@pytest.mark.parametrize("t, invertible, match", [
    (np.eye(2), False, r"shape \(2, 2\)"),
    (np.array([[0.5, 0.6, 0.0], [0, 1, 0], [0, 0, 1]]), False, "not row-stochastic"),
    (np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0, 0, 1]]), True, "singular"),
])
def test_bad_matrices_are_refused_by_name(t, invertible, match):
    with pytest.raises(UserError, match=match):
        check_transition(t, num_classes=3, source="T.npy", invertible=invertible)


def test_forward_clips_p_only_so_a_column_summing_below_one_keeps_loss_and_gradient():
    # the column of label 1 sums to 0.5: (p^T T)_1 = 0.5 p_1 ~ 8.4e-8, below the clip; clipping (p^T T)_y instead
    # capped the loss at -log 1e-7 = 16.118 and zeroed its gradient. The paper / Keras code: 16.293, [+1, -1]
    logits = torch.tensor([[0.0, -15.6]], requires_grad=True)
    t = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    loss = forward_corrected_ce(logits, torch.tensor([1]), t)
    p1 = np.exp(-15.6) / (1 + np.exp(-15.6))
    assert float(loss) == pytest.approx(-np.log(0.5 * p1), rel=1e-4) and float(loss) == pytest.approx(16.293, abs=1e-3)
    loss.sum().backward()
    # d/dz -log(0.5 p_1) = p - e_1
    assert logits.grad[0].tolist() == pytest.approx([1 - p1, p1 - 1], abs=1e-5)


DELTA = torch.tensor([[0.05, -0.05, 0.0], [0.0, 0.02, -0.02], [0.01, 0.0, -0.01]])


def reweighted_expected(delta_of):
    """beta_i CE_i written out, sample i with T + delta_of(i)."""
    p = torch.softmax(LOGITS, 1).numpy()
    out = []
    for i in range(2):
        t = T.numpy() + delta_of(i)
        noisy_y = sum(p[i, c] * t[c, Y[i]] for c in range(3))
        out.append(p[i, Y[i]] / noisy_y * -np.log(p[i, Y[i]]))
    return out


def test_reweighted_ce_is_p_y_over_the_noisy_posterior_times_ce():
    assert reweighted_ce(LOGITS, Y, T).tolist() == pytest.approx(reweighted_expected(lambda i: 0), rel=1e-5)
    revised = reweighted_ce(LOGITS, Y, T, revision=DELTA).tolist()
    assert revised == pytest.approx(reweighted_expected(lambda i: DELTA.numpy()), rel=1e-5)


def test_accumulate_gives_sample_i_t_plus_i_plus_one_delta_as_the_authors_code():
    got = reweighted_ce(LOGITS, Y, T, revision=DELTA, accumulate=True).tolist()
    assert got == pytest.approx(reweighted_expected(lambda i: (i + 1) * DELTA.numpy()), rel=1e-5)


def test_the_revision_learns_only_through_a_differentiable_weight():
    delta = DELTA.clone().requires_grad_(True)
    reweighted_ce(LOGITS, Y, T, revision=delta, detach_weight=False).sum().backward()
    assert delta.grad is not None and delta.grad.abs().sum() > 0
    delta = DELTA.clone().requires_grad_(True)
    loss = reweighted_ce(LOGITS, Y, T, revision=delta)  # the reweighting stage: beta a constant
    assert not loss.requires_grad


def test_volume_transition_is_the_row_normalized_identity_plus_sigmoid_off_the_diagonal():
    w = torch.tensor([[5.0, -2.0, 0.0], [1.0, 3.0, -1.0], [-4.0, 2.0, 0.5]])
    s = 1 / (1 + np.exp(-w.numpy()))
    raw = np.where(np.eye(3) == 1, 1.0, s)
    expected = raw / raw.sum(1, keepdims=True)
    t = volume_transition(w)
    assert t.numpy() == pytest.approx(expected, rel=1e-6)
    assert float(log_volume(t)) == pytest.approx(np.log(abs(np.linalg.det(expected))), rel=1e-5)


def test_noisy_prediction_and_the_realized_matrix():
    assert noisy_prediction(LOGITS, T).numpy() == pytest.approx(torch.softmax(LOGITS, 1).numpy() @ T.numpy(), rel=1e-6)
    clean = np.array([0, 0, 0, 0, 1, 1, -1])  # class 2 absent: the identity row; -1: clean label unknown
    noisy = np.array([0, 0, 0, 1, 1, 0, 2])
    assert realized_transition(clean, noisy, num_classes=3).tolist() == [[0.75, 0.25, 0], [0.5, 0.5, 0], [0, 0, 1]]
