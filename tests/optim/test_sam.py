"""SAM / ASAM (Foret et al. 2021; Kwon et al. 2021) on a hand-set Linear(3, 2) and a batch of 4.
The expected updates are computed in the test with NumPy from the closed-form gradient of mean
softmax cross-entropy for a linear model, dL/dW = (P - Y)^T X / n, dL/db = mean(P - Y):
    g = grad(w); e = rho g / ||g|| (ASAM: rho |w|^2 g / || |w| g ||); g' = grad(w + e); w <- base(w, g')."""
import copy
from functools import partial

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from noisyrobust.errors import UserError
from noisyrobust.optim import SAM

X = np.array([[0.5, -1.2, 0.3], [-0.7, 0.4, 1.1], [1.5, 0.2, -0.6], [-0.3, -0.8, 0.9]])
Y = np.array([0, 1, 1, 0])
W = np.array([[0.4, -0.3, 0.8], [-0.5, 0.9, 0.1]])
B = np.array([0.2, -0.1])
RHO, LR = 0.3, 0.5


def np_grad(w, b):
    z = X @ w.T + b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    d = (p - np.eye(2)[Y]) / len(Y)
    return d.T @ X, d.sum(0)


def np_ascent(w, b, *, adaptive):
    gw, gb = np_grad(w, b)
    if adaptive:
        norm = np.sqrt(((np.abs(w) * gw) ** 2).sum() + ((np.abs(b) * gb) ** 2).sum())
        return RHO * w ** 2 * gw / norm, RHO * b ** 2 * gb / norm
    norm = np.sqrt((gw ** 2).sum() + (gb ** 2).sum())
    return RHO * gw / norm, RHO * gb / norm


def np_sam_gradient(w, b, *, adaptive=False):
    """g' = the gradient at w + e."""
    ew, eb = np_ascent(w, b, adaptive=adaptive)
    return np_grad(w + ew, b + eb)


def linear(w=W, b=B):
    net = torch.nn.Linear(3, 2).double()
    with torch.no_grad():
        net.weight.copy_(torch.from_numpy(w))
        net.bias.copy_(torch.from_numpy(b))
    return net


def loss_of(net):
    return F.cross_entropy(net(torch.from_numpy(X)), torch.from_numpy(Y))


def sam_step(net, opt):
    """The two-pass protocol the training step runs."""
    opt.zero_grad()
    loss_of(net).backward()
    opt.ascend()
    opt.zero_grad()
    loss_of(net).backward()
    opt.step()


def params_of(net):
    return net.weight.detach().numpy(), net.bias.detach().numpy()


# -- the fixture ---------------------------------------------------------------------------------------
def test_closed_form_gradient_matches_autograd():
    net = linear()
    loss_of(net).backward()
    gw, gb = np_grad(W, B)
    np.testing.assert_allclose(net.weight.grad.numpy(), gw, rtol=1e-12)
    np.testing.assert_allclose(net.bias.grad.numpy(), gb, rtol=1e-12)


# -- SAM and ASAM over SGD -----------------------------------------------------------------------------
def test_sam_step_is_sgd_with_the_gradient_at_the_ascended_point():
    net = linear()
    sam_step(net, SAM(net.parameters(), base_optimizer=partial(torch.optim.SGD, lr=LR), rho=RHO))
    gw, gb = np_sam_gradient(W, B)
    w, b = params_of(net)
    np.testing.assert_allclose(w, W - LR * gw, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(b, B - LR * gb, rtol=1e-10, atol=1e-13)
    # and not plain SGD: the ascent changes the gradient by more than float noise
    assert np.abs(gw - np_grad(W, B)[0]).max() > 1e-3


def test_asam_step_scales_the_ascent_by_the_squared_weights():
    net = linear()
    sam_step(net, SAM(net.parameters(), base_optimizer=partial(torch.optim.SGD, lr=LR), rho=RHO, adaptive=True))
    gw, gb = np_sam_gradient(W, B, adaptive=True)
    w, b = params_of(net)
    np.testing.assert_allclose(w, W - LR * gw, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(b, B - LR * gb, rtol=1e-10, atol=1e-13)
    assert np.abs(gw - np_sam_gradient(W, B)[0]).max() > 1e-3  # differs from SAM's


@pytest.mark.parametrize("adaptive", [False, True])
def test_ascend_moves_to_w_plus_e_and_restore_returns_exactly_to_w(adaptive):
    net = linear()
    opt = SAM(net.parameters(), base_optimizer=partial(torch.optim.SGD, lr=LR), rho=RHO, adaptive=adaptive)
    loss_of(net).backward()
    opt.ascend()
    ew, eb = np_ascent(W, B, adaptive=adaptive)
    w, b = params_of(net)
    np.testing.assert_allclose(w, W + ew, rtol=1e-10)
    np.testing.assert_allclose(b, B + eb, rtol=1e-10)
    assert np.sqrt((ew ** 2).sum() + (eb ** 2).sum()) == pytest.approx(RHO) or adaptive
    opt.restore()
    w, b = params_of(net)
    assert np.array_equal(w, W) and np.array_equal(b, B)
    opt.restore()  # a second restore changes nothing
    assert np.array_equal(params_of(net)[0], W)


def test_parameters_without_a_gradient_stay_out_of_the_norm_and_do_not_move():
    net, frozen = linear(), torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    opt = SAM([*net.parameters(), frozen], base_optimizer=partial(torch.optim.SGD, lr=LR), rho=RHO)
    sam_step(net, opt)
    gw, _ = np_sam_gradient(W, B)
    np.testing.assert_allclose(params_of(net)[0], W - LR * gw, rtol=1e-10)
    assert torch.equal(frozen, torch.ones(2, dtype=torch.float64))


# -- SAM over Adam: the base optimizer's own update with g' ----------------------------------------------
def test_sam_over_adam_is_adam_fed_the_gradients_at_the_ascended_points():
    net = linear()
    opt = SAM(net.parameters(), base_optimizer=partial(torch.optim.Adam, lr=0.05), rho=RHO)
    twin = linear()
    adam = torch.optim.Adam(twin.parameters(), lr=0.05)
    for _ in range(3):  # several steps, so Adam's moments matter
        w, b = params_of(twin)
        gw, gb = np_sam_gradient(w.copy(), b.copy())
        twin.weight.grad, twin.bias.grad = torch.from_numpy(gw), torch.from_numpy(gb)
        adam.step()
        sam_step(net, opt)
    torch.testing.assert_close(net.weight, twin.weight, rtol=1e-10, atol=1e-13)
    torch.testing.assert_close(net.bias, twin.bias, rtol=1e-10, atol=1e-13)


def test_state_dict_round_trip_restores_adam_moments_and_continues_identically():
    net = linear()
    opt = SAM(net.parameters(), base_optimizer=partial(torch.optim.Adam, lr=0.05), rho=RHO)
    for _ in range(2):
        sam_step(net, opt)
    saved = copy.deepcopy(opt.state_dict())  # as torch.save/torch.load would: no tensor shared
    assert {"exp_avg", "exp_avg_sq", "step"} <= set(saved["state"][0])

    net2 = linear(*[p.copy() for p in params_of(net)])
    opt2 = SAM(net2.parameters(), base_optimizer=partial(torch.optim.Adam, lr=0.05), rho=RHO)
    opt2.load_state_dict(saved)
    assert opt2.param_groups is opt2.base_optimizer.param_groups
    for p, p2 in zip(net.parameters(), net2.parameters()):
        for key in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(opt.base_optimizer.state[p][key], opt2.base_optimizer.state[p2][key])
    sam_step(net, opt)
    sam_step(net2, opt2)
    assert torch.equal(net.weight, net2.weight) and torch.equal(net.bias, net2.bias)


# -- schedulers act on the base optimizer ----------------------------------------------------------------
def test_a_scheduler_on_sam_sets_the_lr_the_base_optimizer_steps_with():
    net = linear()
    opt = SAM(net.parameters(), base_optimizer=partial(torch.optim.SGD, lr=LR), rho=RHO)
    assert opt.param_groups is opt.base_optimizer.param_groups and opt.defaults["lr"] == LR
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2)
    sam_step(net, opt)
    cosine.step()
    assert opt.base_optimizer.param_groups[0]["lr"] == pytest.approx(LR / 2)  # LR (1 + cos(pi / 2)) / 2
    w0, b0 = (p.copy() for p in params_of(net))
    gw, _ = np_sam_gradient(w0, b0)
    sam_step(net, opt)
    np.testing.assert_allclose(params_of(net)[0], w0 - LR / 2 * gw, rtol=1e-10)
    cosine.step()
    assert opt.base_optimizer.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-15)
    w0 = params_of(net)[0].copy()
    sam_step(net, opt)  # lr 0: w back exactly where it was
    assert np.array_equal(params_of(net)[0], w0)


@pytest.mark.parametrize("rho", [0.0, -0.05])
def test_rho_must_be_positive(rho):
    with pytest.raises(UserError, match=f"optimizer.rho={rho} must be > 0"):
        SAM(linear().parameters(), base_optimizer=torch.optim.SGD, rho=rho, lr=0.1)
