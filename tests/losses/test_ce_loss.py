"""Per-sample cross-entropy: CE_i = -log softmax(z_i)[y_i] = logsumexp(z_i) - z_i[y_i], shape (B,)."""
import math

import numpy as np
import torch

from noisyrobust.losses import CrossEntropy, cross_entropy

LOGITS = [[2.0, 1.0, 0.0],
          [0.0, 0.0, 0.0],
          [1.0, 3.0, -1.0],
          [-2.0, 0.5, 4.0]]
TARGETS = [0, 2, 1, 0]


def ce_by_hand(logits, targets):
    out = []
    for z, y in zip(logits, targets):
        z = np.asarray(z, dtype=np.float64)
        out.append(math.log(np.sum(np.exp(z))) - z[y])
    return np.array(out)


def test_cross_entropy_matches_minus_log_softmax_of_target_per_sample():
    got = cross_entropy(torch.tensor(LOGITS), torch.tensor(TARGETS))
    np.testing.assert_allclose(got.numpy(), ce_by_hand(LOGITS, TARGETS), rtol=1e-6, atol=1e-6)


def test_cross_entropy_of_uniform_logits_is_log_num_classes():
    got = cross_entropy(torch.zeros(2, 5), torch.tensor([0, 3]))
    np.testing.assert_allclose(got.numpy(), [math.log(5)] * 2, rtol=1e-6)


def test_cross_entropy_is_per_sample_with_shape_batch_and_no_reduction():
    got = cross_entropy(torch.tensor(LOGITS), torch.tensor(TARGETS))
    assert got.shape == (4,)
    # each entry depends on its own row only: a single-row call gives the same number
    single = cross_entropy(torch.tensor(LOGITS[2:3]), torch.tensor(TARGETS[2:3]))
    assert single.shape == (1,)
    assert abs(float(single[0]) - ce_by_hand(LOGITS, TARGETS)[2]) < 1e-6


def test_cross_entropy_confident_wrong_logit_is_not_clamped():
    # z = [30, 0, 0], y = 1: CE = log(e^30 + 2) - 0 ~= 30 (a clamp of p at 1e-7 would give ~16.1)
    got = cross_entropy(torch.tensor([[30.0, 0.0, 0.0]]), torch.tensor([1]))
    expected = 30.0 + math.log1p(2 * math.exp(-30.0))
    assert abs(float(got[0]) - expected) < 1e-4


def test_cross_entropy_module_equals_hand_formula():
    got = CrossEntropy()(torch.tensor(LOGITS), torch.tensor(TARGETS))
    assert got.shape == (4,)
    np.testing.assert_allclose(got.numpy(), ce_by_hand(LOGITS, TARGETS), rtol=1e-6, atol=1e-6)


def test_cross_entropy_gradient_is_softmax_minus_one_hot():
    logits = torch.tensor(LOGITS, requires_grad=True)
    CrossEntropy()(logits, torch.tensor(TARGETS)).sum().backward()
    z = np.array(LOGITS)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    onehot = np.eye(3)[TARGETS]
    np.testing.assert_allclose(logits.grad.numpy(), p - onehot, rtol=1e-5, atol=1e-6)
