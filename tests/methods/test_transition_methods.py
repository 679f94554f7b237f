"""T-Revision, VolMinNet and CAL: one training loss on a batch of three (no Trainer) against the papers'
formulas computed here with NumPy; CAL's learning rate divided by 1 + alpha and restarted at its second
stage; the three through the pipeline (their transition errors and sieve column) and their bad values.
Resumes, DDP, SAM and fused steps: the cross-method batteries (conf/method/)."""
import re
from functools import partial
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from test_method_steps import ADAM, C, INDEX, N, X, Y, attach, batch, linear, loss_of, np_logits, softmax

from noisyrobust.errors import UserError
from noisyrobust.methods import CAL, TRevision, VolMinNet

T = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.0, 0.3, 0.7]], dtype=np.float32)
DELTA = np.array([[0.02, -0.01, -0.01], [0.0, 0.03, -0.03], [0.01, 0.0, -0.01]], dtype=np.float32)
NOISY = np.arange(N) % C  # the labels of the N training samples (INDEX's rows hold Y)
NOISY[INDEX] = Y


def reweighted(net, t_of):
    p = softmax(np_logits(net))
    ce = -np.log(p[np.arange(3), Y])
    return np.mean([p[i, Y[i]] / (p[i] @ t_of(i))[Y[i]] * ce[i] for i in range(3)])


def trevision(net, **kwargs):
    return attach(TRevision(net=net, num_classes=C, optimizer=ADAM, transition_matrix=torch.from_numpy(T), **kwargs))


def test_trevision_reweights_ce_by_p_y_over_the_noisy_posterior_then_revises_t():
    net = linear(1)
    module = trevision(net)
    assert loss_of(module) == pytest.approx(reweighted(net, lambda i: T), rel=1e-5)
    module.revising = True
    module.revision.data = torch.from_numpy(DELTA)
    assert loss_of(module) == pytest.approx(reweighted(net, lambda i: T + DELTA), rel=1e-5)
    module.accumulate = True  # the authors' code: sample i sees T + (i+1)ΔT
    assert loss_of(module) == pytest.approx(reweighted(net, lambda i: T + (i + 1) * DELTA), rel=1e-5)


def test_trevision_starts_from_the_stages_ce_model():
    net, trained = linear(1), linear(2)
    trevision(net, warm_start=trained)
    assert torch.equal(net.weight, trained.weight) and torch.equal(net.bias, trained.bias)


def test_volminnet_is_forward_correction_with_the_learnt_t_plus_lambda_log_det():
    net = linear(2)
    module = attach(VolMinNet(net=net, num_classes=C, optimizer=ADAM, init=2.0, lam=0.3))
    w = np.array([[0.0, -1.0, -3.0], [0.5, 0.0, -2.0], [-1.5, 1.0, 0.0]], dtype=np.float32)
    module.transition_weights.data = torch.from_numpy(w)
    raw = np.where(np.eye(C) == 1, 1.0, 1 / (1 + np.exp(-w)))
    t = raw / raw.sum(1, keepdims=True)
    noisy = softmax(np_logits(net)) @ t
    expected = np.mean(-np.log(noisy[np.arange(3), Y])) + 0.3 * np.log(abs(np.linalg.det(t)))
    assert loss_of(module) == pytest.approx(expected, rel=1e-5)
    groups = module.trainable_parameters()  # T's own group: its lr, no weight decay
    assert groups[1]["params"][0] is module.transition_weights and groups[1]["weight_decay"] == 0.0


def cal(net, epoch, **kwargs):
    module = CAL(net=net, num_classes=C, optimizer=ADAM, warmup_epochs=2, alpha_start=0, alpha_end=2, **kwargs)
    module._trainer = SimpleNamespace(world_size=1, current_epoch=epoch, global_step=0, is_global_zero=True,
                                      max_epochs=6, datamodule=SimpleNamespace(
                                          clean_labels=torch.arange(N) % C, noisy_labels=torch.from_numpy(NOISY),
                                          train_indices=torch.arange(N)),
                                      strategy=SimpleNamespace(root_device=torch.device("cpu")))
    module.setup("fit")
    return module


def test_cal_sieve_step_is_peer_regularized_ce_and_records_the_distilled_labels():
    net = linear(3)
    module = cal(net, epoch=1, alpha_sieve=2.0)  # alpha = 2 * 1/2
    p = softmax(np_logits(net))
    counts = np.bincount(NOISY, minlength=C)
    prior = np.sqrt(counts) / np.sqrt(counts).sum()
    expected = np.mean(-np.log(p[np.arange(3), Y] + 1e-8) - 1.0 * (prior * -np.log(p + 1e-5)).sum(1))
    assert loss_of(module) == pytest.approx(expected, rel=1e-5)
    nll = -np.log(p + 1e-8)
    score = nll[np.arange(3), Y] - nll.mean(1)
    assert module.per_sample.sieve_score[INDEX].numpy() == pytest.approx(score, rel=1e-5)
    assert module.per_sample.distilled[INDEX].tolist() == np.where(score < -8, Y, p.argmax(1)).tolist()


def test_cal_step_is_ce_minus_alpha_peer_minus_the_covariance_term():
    net = linear(4)
    module = cal(net, epoch=3, alpha=1.0, prior_scale=10.0)  # second stage, its epoch 1: alpha 0.5
    distilled = np.array([0, 2, 1, 1, 2, 0])
    module.per_sample.distilled.copy_(torch.from_numpy(distilled))
    t_hat = np.zeros((C, C))
    for d, y in zip(distilled, NOISY):
        t_hat[d, y] += 1
    share = t_hat.sum(1) / N
    t_hat = t_hat / t_hat.sum(1, keepdims=True)
    mu = np.array([[0.1, 0.2, 0.3], [0.0, 0.5, 0.1], [0.3, 0.3, 0.3]], dtype=np.float32)
    module.transition.copy_(torch.from_numpy(t_hat))
    module.share.copy_(torch.from_numpy(share))
    module.loss_mean.copy_(torch.from_numpy(mu))
    p = softmax(np_logits(net))
    l = -np.log(p + 1e-5)
    d = distilled[INDEX]
    prior = 10 * np.bincount(NOISY, minlength=C) / N
    covariance = 0.0
    for i in range(C):
        members = [n for n in range(3) if d[n] == i and t_hat[i, Y[n]] < 1]
        inner = sum((float(Y[n] == j) - t_hat[i, j]) * (l[n, j] - mu[i, j]) for n in members for j in range(C))
        covariance += share[i] * inner / max(len(members), 1)
    expected = np.mean(-np.log(p[np.arange(3), Y])) - 0.5 * np.mean((prior * l).sum(1)) - covariance
    assert loss_of(module) == pytest.approx(expected, rel=1e-4)


def test_cal_divides_the_lr_by_one_plus_alpha_and_restarts_the_schedule_with_its_second_stage():
    scheduler = partial(torch.optim.lr_scheduler.MultiStepLR, milestones=[1], gamma=0.1)
    module = cal(linear(5), epoch=0, alpha_sieve=2.0, alpha=1.0)
    module.scheduler_factory = scheduler
    config = module.configure_optimizers()
    optimizer, lambda_lr = config["optimizer"], config["lr_scheduler"]["scheduler"]
    lrs = []
    for _ in range(6):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        lambda_lr.step()
    # epochs 0-1 sieve (alpha 0, 1), 2-5 CAL (alpha 0, 0.5, 1, 1); the step at stage epoch 1 in both
    expected = [1e-3 * f for f in (1.0, 0.1 / 2, 1.0, 0.1 / 1.5, 0.1 / 2, 0.1 / 2)]
    assert lrs == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("method, extra", [("trevision", ["method.reweight_epochs=1", "stages.transition.epochs=2"]),
                                           ("volminnet", []), ("cal", ["method.warmup_epochs=1"])])
def test_each_trains_through_the_pipeline_and_reports_t_or_the_sieve(fit, method, extra):
    summary, _ = fit(f"method={method}", *extra, "noise=sym0.4", "trainer.max_epochs=3")
    assert summary["epochs"] == 3 and summary["test_acc_last"] > 0.3  # 10 classes: chance 0.1
    if method == "cal":
        assert summary["label_issues"]["detection"]["cal_sieve"]["auroc"] > 0.6  # it finds wrong labels
        return
    facts = summary["revised_transition" if method == "trevision" else "learnt_transition"]
    t = np.array(facts["matrix"])
    assert t.shape == (10, 10) and np.allclose(t.sum(1), 1, atol=1e-3)
    assert facts["mean_abs_error_vs_realized"] < 0.1  # sym0.4: the realized off-diagonal entries near 0.044


@pytest.mark.parametrize("build, message", [
    (lambda: TRevision(net=linear(0), num_classes=C, optimizer=ADAM, transition_matrix=torch.eye(C), reweight_epochs=-1),
     "method.reweight_epochs=-1 must be >= 0"),
    (lambda: TRevision(net=linear(0), num_classes=C, optimizer=ADAM), "method=trevision needs the matrix T"),
    (lambda: VolMinNet(net=linear(0), num_classes=C, optimizer=ADAM, lam=-1.0), "method.lam=-1.0 must be >= 0"),
    (lambda: VolMinNet(net=linear(0), num_classes=C, optimizer=ADAM, transition_lr=0.0), "method.transition_lr=0.0 > 0"),
    (lambda: CAL(net=linear(0), num_classes=C, optimizer=ADAM, warmup_epochs=0), "method.warmup_epochs=0 must be >= 1"),
    (lambda: CAL(net=linear(0), num_classes=C, optimizer=ADAM, alpha_start=5, alpha_end=2),
     "0 <= method.alpha_start=5 <= method.alpha_end=2"),
    (lambda: CAL(net=linear(0), num_classes=C, optimizer=ADAM, prior_scale=0.0), "method.prior_scale=0.0 > 0"),
])
def test_bad_values_are_refused_by_name(build, message):
    with pytest.raises(UserError, match=re.escape(message)):
        build()
