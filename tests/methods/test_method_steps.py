"""One training loss of GCE, forward/backward correction, ELR, ELR+, SOP and DivideMix on a batch of three,
called directly (no Trainer), against the paper's formula computed here with NumPy from the same weights,
inputs, per-sample state and draws."""
import math
from functools import partial
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from noisyrobust.methods import DivideMix, ELR, ELRPlus, GCE, LossCorrection, SOP

C = 3
X = np.array([[0.5, -0.9, 0.4], [-0.5, 0.8, 0.3], [-0.9, -0.7, 0.8]], dtype=np.float32)
Y = np.array([0, 1, 1])
INDEX = np.array([4, 0, 2])
N = 6  # training samples, by global index


def linear(seed):
    torch.manual_seed(seed)
    return nn.Linear(3, C)


def attach(module):
    """The few trainer facts a step reads, then the method's own setup (its per-sample state)."""
    module._trainer = SimpleNamespace(world_size=1, current_epoch=0, global_step=0, is_global_zero=True,
                                      datamodule=SimpleNamespace(clean_labels=torch.arange(N) % C),
                                      strategy=SimpleNamespace(root_device=torch.device("cpu"),
                                                               broadcast=lambda t, src: t))
    module.setup("fit")
    return module


def batch():
    return torch.from_numpy(X), torch.from_numpy(Y), torch.from_numpy(INDEX)


def loss_of(module):
    b = batch()
    return float(module.training_loss(b, module.select(b)).detach())


def np_logits(net, x=X):
    return x @ net.weight.detach().numpy().T + net.bias.detach().numpy()


def softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def onehot(y):
    return np.eye(C)[y]


ADAM = partial(torch.optim.Adam, lr=1e-3)


@pytest.mark.parametrize("q", [0.7, 1.0])
def test_gce_is_the_mean_of_one_minus_p_y_to_the_q_over_q(q):
    net = linear(0)
    module = attach(GCE(net=net, num_classes=C, optimizer=ADAM, q=q))
    p_y = softmax(np_logits(net))[np.arange(3), Y]
    assert loss_of(module) == pytest.approx(np.mean((1 - p_y ** q) / q), rel=1e-5)


def test_truncated_gce_subtracts_lq_of_k_on_the_kept_samples_only():
    net = linear(0)
    module = attach(GCE(net=net, num_classes=C, optimizer=ADAM, q=0.7, k=0.5, truncated=True))
    module.per_sample.weight[INDEX[1]] = 0.0  # pruned
    p_y = softmax(np_logits(net))[np.arange(3), Y]
    w = np.array([1.0, 0.0, 1.0])
    expected = np.mean(w * ((1 - p_y ** 0.7) / 0.7 - (1 - 0.5 ** 0.7) / 0.7))
    assert loss_of(module) == pytest.approx(expected, rel=1e-5)


T = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.0, 0.3, 0.7]], dtype=np.float32)


def test_forward_correction_is_minus_log_of_p_times_t_at_the_label():
    net = linear(1)
    module = attach(LossCorrection(net=net, num_classes=C, optimizer=ADAM, correction="forward",
                                   transition_matrix=torch.from_numpy(T)))
    noisy = softmax(np_logits(net)) @ T
    assert loss_of(module) == pytest.approx(np.mean(-np.log(noisy[np.arange(3), Y])), rel=1e-5)


def test_backward_correction_weighs_the_per_class_losses_by_the_inverse_row_of_the_label():
    net = linear(1)
    module = attach(LossCorrection(net=net, num_classes=C, optimizer=ADAM, correction="backward",
                                   transition_matrix=torch.from_numpy(T)))
    inverse = np.linalg.inv(T.astype(np.float64))
    per_class = -np.log(softmax(np_logits(net)))
    expected = np.mean([inverse[Y[i]] @ per_class[i] for i in range(3)])
    assert loss_of(module) == pytest.approx(expected, rel=1e-4)


def test_elr_updates_the_targets_then_adds_lambda_log_one_minus_t_dot_p():
    net = linear(2)
    module = attach(ELR(net=net, num_classes=C, optimizer=ADAM, beta=0.7, lam=3.0))
    module.per_sample.target[INDEX[0]] = torch.tensor([0.2, 0.5, 0.3])  # a sample seen before
    p = np.clip(softmax(np_logits(net)), 1e-4, 1 - 1e-4)
    previous = np.zeros((3, C))
    previous[0] = [0.2, 0.5, 0.3]
    t = 0.7 * previous + 0.3 * p / p.sum(1, keepdims=True)
    ce = -np.log(softmax(np_logits(net))[np.arange(3), Y])
    expected = np.mean(ce + 3.0 * np.log(1 - (t * p).sum(1)))
    assert loss_of(module) == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(module.per_sample.target[torch.from_numpy(INDEX)].numpy(), t, rtol=1e-5)


def test_sop_is_ce_of_the_modified_prediction_plus_the_squared_correction_term():
    net = linear(3)
    module = attach(SOP(net=net, num_classes=C, optimizer=ADAM, std=0.3, seed=1))
    u = module.per_sample.u[torch.from_numpy(INDEX)].numpy()
    v = module.per_sample.v[torch.from_numpy(INDEX)].numpy()
    y = onehot(Y)
    big_u, big_v = np.clip(u ** 2 * y, 0, 1), np.clip(v ** 2 * (1 - y), 0, 1)
    p = np.maximum(softmax(np_logits(net)) + big_u - big_v, 1e-4)
    p = np.clip(p / np.maximum(p.sum(1, keepdims=True), 1e-4), 1e-4, 1)
    term1 = -np.mean(np.log(p[np.arange(3), Y]))
    hard = onehot(np_logits(net).argmax(1))
    term2 = ((hard + big_u - big_v - y) ** 2).sum() / 3
    assert loss_of(module) == pytest.approx(term1 + term2, rel=1e-5)


def test_elr_plus_mixes_the_batch_and_regularizes_towards_the_peers_ema_targets():
    nets = [linear(4), linear(5)]
    module = attach(ELRPlus(net1=nets[0], net2=nets[1], num_classes=C, optimizer=ADAM, beta=0.7, lam=3.0,
                            coef_step=0, seed=0))
    b = batch()
    lam, perm = module.select(b)
    loss = float(module.training_loss(b, (lam, perm)))
    perm = perm.numpy()
    lam = max(lam, 1 - lam)
    mixed_x = lam * X + (1 - lam) * X[perm]
    mixed_y = lam * onehot(Y) + (1 - lam) * onehot(Y)[perm]
    expected = 0.0
    for k, peer in ((0, 1), (1, 0)):
        target = 0.3 * softmax(np_logits(nets[peer]))  # the EMA copies equal the networks at the start
        q = lam * target + (1 - lam) * target[perm]
        logits = np_logits(nets[k], mixed_x)
        p = np.clip(softmax(logits), 1e-4, 1 - 1e-4)
        soft_ce = -(mixed_y * np.log(softmax(logits))).sum(1)
        expected += np.mean(soft_ce) + 3.0 * np.mean(np.log(1 - (q * p).sum(1)))
    assert loss == pytest.approx(expected, rel=1e-5)


def test_dividemix_after_the_warmup_is_mixmatch_on_the_peers_division():
    nets = [linear(6), linear(7)]
    module = attach(DivideMix(net1=nets[0], net2=nets[1], num_classes=C, optimizer=ADAM, warmup_epochs=0,
                              lambda_u=25.0, p_threshold=0.5, temperature=0.5, alpha=4.0, ramp_epochs=16.0))
    clean_prob = np.array([[0.9, 0.2], [0.1, 0.8], [0.7, 0.6], [0.5, 0.5], [0.3, 0.95], [0.6, 0.4]], np.float32)
    module.per_sample.clean_prob.copy_(torch.from_numpy(clean_prob))
    module.trainer.current_epoch = 8  # half-way up the λu ramp (its 16 epochs start after the warm-up)
    b = batch()
    lam, perms = module.select(b)
    loss = float(module.training_loss(b, (lam, perms)))

    def sharpen(p, t=0.5):
        p = p ** (1 / t)
        return p / p.sum(1, keepdims=True)

    both = np.concatenate([X, X])
    probs = [softmax(np_logits(net, both)).reshape(2, 3, C).mean(0) for net in nets]
    guessed = sharpen((probs[0] + probs[1]) / 2)
    lam = max(lam, 1 - lam)
    expected = 0.0
    for k, peer in ((0, 1), (1, 0)):
        w = clean_prob[INDEX, peer][:, None]
        labelled = w[:, 0] > 0.5
        refined = sharpen(w * onehot(Y) + (1 - w) * probs[k])
        target = np.concatenate([np.where(labelled[:, None], refined, guessed)] * 2)
        perm = perms[k].numpy()
        out = np_logits(nets[k], lam * both + (1 - lam) * both[perm])
        t = lam * target + (1 - lam) * target[perm]
        rows = np.concatenate([labelled, labelled])
        p = softmax(out)
        lx = -(t * np.log(p)).sum(1)[rows].mean() if rows.any() else 0.0
        lu = ((p - t) ** 2).mean(1)[~rows].mean() if (~rows).any() else 0.0
        prior = np.sum(np.log(1 / C) - np.log(p.mean(0))) / C
        expected += lx + 25.0 * 0.5 * lu + prior
    assert loss == pytest.approx(expected, rel=1e-4)
    assert math.isfinite(loss)
