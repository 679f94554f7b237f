"""JoCoR's joint loss (Wei et al. 2020) against numpy on explicit logits:
symmetric_kl = KL(p1||p2) + KL(p2||p1); jocor_loss = (1-λ)(CE1+CE2) + λ·symmetric_kl, per sample;
gradients against the closed forms d/dz1 KL(p1||p2) = p1·(a - <p1,a>), a = log p1 - log p2, and
d/dz1 KL(p2||p1) = p1 - p2."""
import numpy as np
import pytest
import torch

from noisyrobust.losses import jocor_loss, symmetric_kl

L1 = np.array([[2.0, 0.5, -1.0],
               [0.1, 0.2, 0.3],
               [-3.0, 4.0, 0.0],
               [1.0, 1.0, 1.0]])
L2 = np.array([[0.0, 1.5, -0.5],
               [0.1, 0.2, 0.3],   # identical to L1's row: KL 0
               [2.0, -1.0, 0.5],
               [0.0, 2.0, -2.0]])
Y = np.array([0, 2, 1, 1])


def log_softmax(z):
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def np_kl(la, lb):
    """KL(pa || pb) per row."""
    lpa, lpb = log_softmax(la), log_softmax(lb)
    return (np.exp(lpa) * (lpa - lpb)).sum(1)


def np_ce(z, y):
    return -log_softmax(z)[np.arange(len(y)), y]


def tt(a, grad=False):
    return torch.tensor(a, dtype=torch.float32, requires_grad=grad)


def test_kl_helper_on_a_hand_computed_pair():
    # p = (1/2, 1/2), q = softmax(ln 3, 0) = (3/4, 1/4): KL(p||q) = 1/2 ln(2/3) + 1/2 ln 2
    la, lb = np.array([[0.0, 0.0]]), np.array([[np.log(3.0), 0.0]])
    assert np_kl(la, lb)[0] == pytest.approx(0.5 * np.log(2 / 3) + 0.5 * np.log(2))


def test_symmetric_kl_matches_numpy_on_explicit_logits():
    expected = np_kl(L1, L2) + np_kl(L2, L1)
    got = symmetric_kl(tt(L1), tt(L2))
    assert got.shape == (4,)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_symmetric_kl_hand_computed_two_class_value():
    # p = (1/2, 1/2), q = (3/4, 1/4): KL(p||q) + KL(q||p) = sum (p - q)(log p - log q)
    #   = -1/4 ln(2/3) + 1/4 ln 2 = 1/4 ln 3
    expected = (0.5 - 0.75) * (np.log(0.5) - np.log(0.75)) + (0.5 - 0.25) * (np.log(0.5) - np.log(0.25))
    got = symmetric_kl(tt([[0.0, 0.0]]), tt([[np.log(3.0), 0.0]]))
    assert got.item() == pytest.approx(expected, rel=1e-5)
    assert got.item() == pytest.approx(0.25 * np.log(3.0), rel=1e-5)


def test_symmetric_kl_of_identical_logits_is_zero():
    got = symmetric_kl(tt(L1), tt(L1))
    np.testing.assert_allclose(got.numpy(), 0.0, atol=1e-7)
    # shift-invariance of softmax: logits + c give the same distribution
    np.testing.assert_allclose(symmetric_kl(tt(L1), tt(L1 + 5.0)).numpy(), 0.0, atol=1e-5)


@pytest.mark.parametrize("lam", [0.0, 0.3, 0.65, 0.9, 1.0])
def test_jocor_loss_matches_numpy_joint_loss(lam):
    expected = (1 - lam) * (np_ce(L1, Y) + np_ce(L2, Y)) + lam * (np_kl(L1, L2) + np_kl(L2, L1))
    got = jocor_loss(tt(L1), tt(L2), torch.tensor(Y), co_lambda=lam)
    assert got.shape == (4,)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_jocor_loss_lambda_zero_is_sum_of_both_cross_entropies():
    got = jocor_loss(tt(L1), tt(L2), torch.tensor(Y), co_lambda=0.0)
    np.testing.assert_allclose(got.numpy(), np_ce(L1, Y) + np_ce(L2, Y), rtol=1e-5)


def test_jocor_loss_lambda_one_is_symmetric_kl_and_ignores_labels():
    expected = np_kl(L1, L2) + np_kl(L2, L1)
    for y in (Y, np.array([2, 0, 0, 2])):
        got = jocor_loss(tt(L1), tt(L2), torch.tensor(y), co_lambda=1.0)
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_jocor_loss_of_identical_networks_is_scaled_double_cross_entropy():
    got = jocor_loss(tt(L2), tt(L2), torch.tensor(Y), co_lambda=0.9)
    np.testing.assert_allclose(got.numpy(), 0.1 * 2 * np_ce(L2, Y), rtol=1e-4, atol=1e-6)


def closed_form_sym_kl_grads(la, lb):
    lpa, lpb = log_softmax(la), log_softmax(lb)
    pa, pb = np.exp(lpa), np.exp(lpb)
    a, b = lpa - lpb, lpb - lpa
    ga = pa * (a - (pa * a).sum(1, keepdims=True)) + (pa - pb)
    gb = pb * (b - (pb * b).sum(1, keepdims=True)) + (pb - pa)
    return ga, gb


def test_symmetric_kl_gradient_reaches_both_logits_as_closed_form():
    z1, z2 = tt(L1, grad=True), tt(L2, grad=True)
    symmetric_kl(z1, z2).sum().backward()
    g1, g2 = closed_form_sym_kl_grads(L1, L2)
    np.testing.assert_allclose(z1.grad.numpy(), g1, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(z2.grad.numpy(), g2, rtol=1e-4, atol=1e-6)
    assert np.abs(g1[[0, 2, 3]]).max() > 0.05 and np.abs(g2[[0, 2, 3]]).max() > 0.05


def test_jocor_loss_gradient_is_ce_part_plus_kl_part_for_both_networks():
    lam = 0.8
    z1, z2 = tt(L1, grad=True), tt(L2, grad=True)
    jocor_loss(z1, z2, torch.tensor(Y), co_lambda=lam).sum().backward()
    onehot = np.eye(3)[Y]
    g1_kl, g2_kl = closed_form_sym_kl_grads(L1, L2)
    g1 = (1 - lam) * (np.exp(log_softmax(L1)) - onehot) + lam * g1_kl
    g2 = (1 - lam) * (np.exp(log_softmax(L2)) - onehot) + lam * g2_kl
    np.testing.assert_allclose(z1.grad.numpy(), g1, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(z2.grad.numpy(), g2, rtol=1e-4, atol=1e-6)


def test_jocor_loss_lambda_one_still_sends_gradient_to_both_networks():
    z1, z2 = tt(L1, grad=True), tt(L2, grad=True)
    jocor_loss(z1, z2, torch.tensor(Y), co_lambda=1.0).sum().backward()
    g1, g2 = closed_form_sym_kl_grads(L1, L2)
    np.testing.assert_allclose(z1.grad.numpy(), g1, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(z2.grad.numpy(), g2, rtol=1e-4, atol=1e-6)
    # the identical row (index 1) gets no gradient from the agreement term
    np.testing.assert_allclose(z1.grad.numpy()[1], 0.0, atol=1e-7)
