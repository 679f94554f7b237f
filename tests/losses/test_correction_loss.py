"""Forward/backward correction against -log (p^T T)_y and (T^-1)_y · (-log p) written out; the anchor-point
estimator on a hand-made prediction matrix; refusals of matrices that are not row-stochastic or singular."""
import numpy as np
import pytest
import torch

from noisyrobust.errors import UserError
from noisyrobust.losses.correction import (backward_corrected_ce, check_transition, estimate_transition,
                                           forward_corrected_ce)

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
