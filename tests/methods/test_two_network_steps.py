"""One `training_loss` step of Co-teaching, Co-teaching+ and JoCoR, called directly (no Trainer) on two
hand-set Linear(4, 3) networks and a batch of 6 samples. Expectations are computed independently in
the test (numpy log-softmax, torch.nn.functional, explicit sorting) and the kept positions are written
out. Lightning is stubbed: `_trainer` holds current_epoch and strategy.reduce; `log` records."""
from functools import partial
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from noisyrobust.errors import UserError
from noisyrobust.methods import CoTeaching, CoTeachingPlus, JoCoR
from noisyrobust.methods.two_networks import TwoNetworks

X = [[0.5, -0.9, 0.4, -0.2],
     [-0.5, 0.8, 0.3, 0.7],
     [-0.9, -0.7, 0.8, 0.9],
     [-0.3, 0.2, -0.9, 0.2],
     [-0.7, 0.0, -0.9, 0.5],
     [-0.2, 0.9, -0.8, 0.8]]
W1 = [[-0.9, 0.8, 0.3, 0.2],
      [-0.6, 0.8, -0.9, 0.7],
      [1.0, -0.3, 0.3, 0.7]]
B1 = [0.1, -0.5, -0.3]
W2 = [[0.2, -0.7, -0.9, 1.0],
      [-1.0, -0.9, -0.8, 0.4],
      [-1.0, 0.3, 0.7, 0.8]]
B2 = [-0.4, -0.3, -0.3]
Y = [0, 1, 2, 0, 1, 2]
INDEX = [10, 11, 12, 13, 14, 15]
CLEAN = [0] * 10 + [1, 1, 2, 0, 1, 0]  # the given labels of batch positions 0 and 5 are noisy

# facts about this fixture, derived by hand from the numbers above and re-checked in the first test
NET1_ORDER = [4, 3, 1, 2, 0, 5]   # positions by ascending CE of net 1
NET2_ORDER = [2, 4, 0, 3, 5, 1]   # positions by ascending CE of net 2
ARGMAX1 = [2, 0, 0, 1, 1, 1]
ARGMAX2 = [0, 2, 2, 1, 1, 0]
DISAGREE = [0, 1, 2, 5]           # positions where the argmaxes differ
JOCOR_ORDER_09 = [4, 3, 5, 2, 0, 1]  # positions by ascending joint loss, λ = 0.9


# -- independent expectations --------------------------------------------------------------------------
def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def np_logits(w, b):
    return f32(X) @ f32(w).T + f32(b)


def np_log_softmax(z):
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def np_ce(w, b):
    return -np_log_softmax(np_logits(w, b))[np.arange(6), Y]


def np_kl(za, zb):
    la, lb = np_log_softmax(za), np_log_softmax(zb)
    return (np.exp(la) * (la - lb)).sum(1)


def np_joint(lam):
    z1, z2 = np_logits(W1, B1), np_logits(W2, B2)
    return (1 - lam) * (np_ce(W1, B1) + np_ce(W2, B2)) + lam * (np_kl(z1, z2) + np_kl(z2, z1))


def mask_of(positions):
    return [i in set(positions) for i in range(6)]


def smallest(losses, k, among=range(6)):
    """Positions of the k smallest losses among `among`, ties to the lower position (plain sorted())."""
    return sorted(sorted(among), key=lambda i: float(losses[i]))[:k]


def torch_coteaching_expectation(k, among=range(6)):
    """mean CE of net 1 over net 2's k smallest + mean CE of net 2 over net 1's k smallest."""
    x, y = torch.tensor(X), torch.tensor(Y)
    with torch.no_grad():
        l1 = F.linear(x, torch.tensor(W1), torch.tensor(B1))
        l2 = F.linear(x, torch.tensor(W2), torch.tensor(B2))
        ce1 = F.cross_entropy(l1, y, reduction="none")
        ce2 = F.cross_entropy(l2, y, reduction="none")
    keep1, keep2 = smallest(ce1.tolist(), k, among), smallest(ce2.tolist(), k, among)
    return ce1[keep2].mean().item() + ce2[keep1].mean().item(), keep1, keep2


# -- the module under a stubbed Lightning --------------------------------------------------------------
def linear(w, b):
    net = torch.nn.Linear(4, 3)
    with torch.no_grad():
        net.weight.copy_(torch.tensor(w))
        net.bias.copy_(torch.tensor(b))
    return net


def make(cls, epoch, monkeypatch, *, w2=W2, b2=B2, global_disagreement=None, forget_rate=0.5,
         num_gradual=10, **kwargs):
    module = cls(net1=linear(W1, B1), net2=linear(w2, b2), num_classes=3,
                 optimizer=partial(torch.optim.Adam, lr=1e-3), forget_rate=forget_rate,
                 num_gradual=num_gradual, **kwargs)
    module.register_buffer("clean_labels", torch.tensor(CLEAN), persistent=False)
    spy = SimpleNamespace(logs=[], reduced=[], kept=None)

    def reduce(t, reduce_op=None):
        spy.reduced.append((float(t), reduce_op))
        return t if global_disagreement is None else torch.tensor(float(global_disagreement))

    module._trainer = SimpleNamespace(current_epoch=epoch, strategy=SimpleNamespace(reduce=reduce))
    monkeypatch.setattr(module, "log", lambda name, value, **kw: spy.logs.append((name, value)))
    monkeypatch.setattr(module, "log_dict", lambda d, **kw: spy.logs.extend(d.items()))

    def record(logits1, given, index, *kept):
        spy.kept = [m.tolist() for m in kept]
        TwoNetworks.record(module, logits1, given, index, *kept)

    monkeypatch.setattr(module, "record", record)
    return module, spy


def batch():
    return torch.tensor(X), torch.tensor(Y), torch.tensor(INDEX)


# -- the fixture itself --------------------------------------------------------------------------------
def test_fixture_orders_and_argmaxes_are_as_written():
    assert list(np.argsort(np_ce(W1, B1), kind="stable")) == NET1_ORDER
    assert list(np.argsort(np_ce(W2, B2), kind="stable")) == NET2_ORDER
    assert list(np_logits(W1, B1).argmax(1)) == ARGMAX1
    assert list(np_logits(W2, B2).argmax(1)) == ARGMAX2
    assert [i for i in range(6) if ARGMAX1[i] != ARGMAX2[i]] == DISAGREE
    assert list(np.argsort(np_joint(0.9), kind="stable")) == JOCOR_ORDER_09
    # no near-ties that float32 could reorder
    for losses in (np_ce(W1, B1), np_ce(W2, B2), np_joint(0.9)):
        assert np.diff(np.sort(losses)).min() > 0.05


# -- Co-teaching ---------------------------------------------------------------------------------------
def test_coteaching_trains_each_net_on_its_peers_three_smallest_at_full_forget_rate(monkeypatch):
    module, spy = make(CoTeaching, 20, monkeypatch)
    loss = module.training_loss(batch())
    # net 1 keeps {4, 3, 1}, net 2 keeps {2, 4, 0}; net 1 learns from net 2's picks and vice versa
    assert spy.kept == [mask_of([1, 3, 4]), mask_of([0, 2, 4])]
    ce1, ce2 = np_ce(W1, B1), np_ce(W2, B2)
    expected = (ce1[0] + ce1[2] + ce1[4]) / 3 + (ce2[1] + ce2[3] + ce2[4]) / 3
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    # not each net on its own picks
    assert abs(loss.item() - (ce1[[1, 3, 4]].mean() + ce2[[0, 2, 4]].mean())) > 0.1


@pytest.mark.parametrize("epoch, k", [(0, 6), (3, 5), (5, 4), (9, 3), (20, 3)])
def test_coteaching_keep_count_follows_forget_rate_schedule(monkeypatch, epoch, k):
    # R(t) = 0.5 t / 9 for t < 10: keep floor((1 - R) 6): 6, 5 (R=1/6), 4 (R=5/18), 3, 3
    module, spy = make(CoTeaching, epoch, monkeypatch)
    loss = module.training_loss(batch())
    expected, keep1, keep2 = torch_coteaching_expectation(k)
    assert keep1 == sorted(NET1_ORDER[:k], key=NET1_ORDER.index)
    assert spy.kept == [mask_of(keep1), mask_of(keep2)]
    assert sum(spy.kept[0]) == sum(spy.kept[1]) == k
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_coteaching_at_epoch_zero_is_mean_ce_of_both_nets(monkeypatch):
    module, _ = make(CoTeaching, 0, monkeypatch)
    loss = module.training_loss(batch())
    assert loss.item() == pytest.approx(np_ce(W1, B1).mean() + np_ce(W2, B2).mean(), rel=1e-5)


def test_coteaching_gradients_come_from_the_peers_selection_only(monkeypatch):
    module, _ = make(CoTeaching, 20, monkeypatch)
    module.training_loss(batch()).backward()
    x, y = torch.tensor(X), torch.tensor(Y)
    params = [torch.tensor(p, requires_grad=True) for p in (W1, B1, W2, B2)]
    w1, b1, w2, b2 = params
    sel2, sel1 = [0, 2, 4], [1, 3, 4]  # net 2's picks train net 1, net 1's picks train net 2
    (F.cross_entropy(F.linear(x[sel2], w1, b1), y[sel2])
     + F.cross_entropy(F.linear(x[sel1], w2, b2), y[sel1])).backward()
    net1, net2 = module.nets
    for got, want in ((net1.weight, w1), (net1.bias, b1), (net2.weight, w2), (net2.bias, b2)):
        torch.testing.assert_close(got.grad, want.grad, rtol=1e-5, atol=1e-6)


def test_coteaching_scores_both_selections(monkeypatch):
    module, spy = make(CoTeaching, 20, monkeypatch)
    module.training_loss(batch())
    # kept {1,3,4} (all clean) and {0,2,4} (0 noisy): 5 clean of 6 kept, 12 seen
    quality = module.outcomes.compute()
    assert quality["select/precision"].item() == pytest.approx(5 / 6)
    assert quality["select/ratio"].item() == pytest.approx(6 / 12)


# -- JoCoR ---------------------------------------------------------------------------------------------
def test_jocor_loss_is_mean_joint_loss_over_its_three_smallest(monkeypatch):
    module, spy = make(JoCoR, 20, monkeypatch, co_lambda=0.9)
    loss = module.training_loss(batch())
    assert spy.kept == [mask_of([3, 4, 5])]
    joint = np_joint(0.9)
    assert loss.item() == pytest.approx((joint[3] + joint[4] + joint[5]) / 3, rel=1e-5)
    # ranking by CE alone would have kept {4, 2, 3}
    assert smallest(np_joint(0.0), 3) == [4, 2, 3]


@pytest.mark.parametrize("epoch, k", [(0, 6), (3, 5), (5, 4), (12, 3)])
def test_jocor_keep_count_follows_forget_rate_schedule(monkeypatch, epoch, k):
    module, spy = make(JoCoR, epoch, monkeypatch, co_lambda=0.9)
    loss = module.training_loss(batch())
    kept = JOCOR_ORDER_09[:k]
    assert spy.kept == [mask_of(kept)]
    assert loss.item() == pytest.approx(np_joint(0.9)[kept].mean(), rel=1e-5)


def test_jocor_gradients_reach_both_networks_as_the_joint_loss_says(monkeypatch):
    lam = 0.9
    module, _ = make(JoCoR, 20, monkeypatch, co_lambda=lam)
    module.training_loss(batch()).backward()
    x, y = torch.tensor(X), torch.tensor(Y)
    w1, b1, w2, b2 = [torch.tensor(p, requires_grad=True) for p in (W1, B1, W2, B2)]
    sel = [3, 4, 5]
    z1, z2 = F.linear(x[sel], w1, b1), F.linear(x[sel], w2, b2)
    lp1, lp2 = F.log_softmax(z1, 1), F.log_softmax(z2, 1)
    kl12 = F.kl_div(lp2, lp1, reduction="none", log_target=True).sum(1)  # KL(p1 || p2)
    kl21 = F.kl_div(lp1, lp2, reduction="none", log_target=True).sum(1)  # KL(p2 || p1)
    ce = F.cross_entropy(z1, y[sel], reduction="none") + F.cross_entropy(z2, y[sel], reduction="none")
    ((1 - lam) * ce + lam * (kl12 + kl21)).mean().backward()
    net1, net2 = module.nets
    for got, want in ((net1.weight, w1), (net1.bias, b1), (net2.weight, w2), (net2.bias, b2)):
        assert want.grad.abs().max() > 1e-3
        torch.testing.assert_close(got.grad, want.grad, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("lam", [-0.1, 1.5])
def test_jocor_rejects_co_lambda_outside_unit_interval(lam):
    with pytest.raises(UserError, match="co_lambda"):
        JoCoR(net1=linear(W1, B1), net2=linear(W2, B2), num_classes=3, optimizer=None,
              forget_rate=0.2, co_lambda=lam)


# -- Co-teaching+ --------------------------------------------------------------------------------------
@pytest.mark.parametrize("epoch, init_epoch, k", [(4, 5, 4), (20, 30, 3), (0, 1, 6)])
def test_coteaching_plus_before_init_epoch_is_coteaching(monkeypatch, epoch, init_epoch, k):
    module, spy = make(CoTeachingPlus, epoch, monkeypatch, init_epoch=init_epoch)
    loss = module.training_loss(batch())
    expected, keep1, keep2 = torch_coteaching_expectation(k)
    assert spy.kept == [mask_of(keep1), mask_of(keep2)]
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert spy.reduced == []  # no disagreement count before init_epoch


def test_coteaching_plus_after_init_epoch_selects_within_disagreement(monkeypatch):
    module, spy = make(CoTeachingPlus, 20, monkeypatch, init_epoch=20)
    loss = module.training_loss(batch())
    # D = {0, 1, 2, 5}, keep floor(0.5 * 4) = 2; net 1 within D: 1, 2; net 2 within D: 2, 0
    # (over the whole batch they would have kept {4, 3} and {2, 4})
    assert spy.kept == [mask_of([1, 2]), mask_of([0, 2])]
    ce1, ce2 = np_ce(W1, B1), np_ce(W2, B2)
    assert loss.item() == pytest.approx((ce1[0] + ce1[2]) / 2 + (ce2[1] + ce2[2]) / 2, rel=1e-5)
    expected, _, _ = torch_coteaching_expectation(2, among=DISAGREE)
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert spy.reduced == [(4.0, "sum")]


@pytest.mark.parametrize("epoch, keep1, keep2", [
    (0, DISAGREE, DISAGREE),     # R = 0: all 4 of D
    (3, [1, 2, 0], [2, 0, 5]),   # R = 1/6: floor(10/3) = 3
    (5, [1, 2], [2, 0]),         # R = 5/18: floor(26/9) = 2
    (15, [1, 2], [2, 0]),        # R = 0.5: 2
])
def test_coteaching_plus_keep_count_is_share_of_disagreement_set(monkeypatch, epoch, keep1, keep2):
    module, spy = make(CoTeachingPlus, epoch, monkeypatch, init_epoch=0)
    loss = module.training_loss(batch())
    assert spy.kept == [mask_of(keep1), mask_of(keep2)]
    ce1, ce2 = np_ce(W1, B1), np_ce(W2, B2)
    assert loss.item() == pytest.approx(ce1[keep2].mean() + ce2[keep1].mean(), rel=1e-5)


def test_coteaching_plus_gradients_come_from_disagreement_picks_only(monkeypatch):
    module, _ = make(CoTeachingPlus, 20, monkeypatch, init_epoch=0)
    module.training_loss(batch()).backward()
    x, y = torch.tensor(X), torch.tensor(Y)
    w1, b1, w2, b2 = [torch.tensor(p, requires_grad=True) for p in (W1, B1, W2, B2)]
    sel2, sel1 = [0, 2], [1, 2]
    (F.cross_entropy(F.linear(x[sel2], w1, b1), y[sel2])
     + F.cross_entropy(F.linear(x[sel1], w2, b2), y[sel1])).backward()
    net1, net2 = module.nets
    for got, want in ((net1.weight, w1), (net1.bias, b1), (net2.weight, w2), (net2.bias, b2)):
        torch.testing.assert_close(got.grad, want.grad, rtol=1e-5, atol=1e-6)


def test_coteaching_plus_skips_the_update_when_the_nets_agree_everywhere(monkeypatch):
    # net 2 = 2 x net 1: the same argmax on every sample, different losses
    w2 = (2 * np.array(W1)).tolist()
    b2 = (2 * np.array(B1)).tolist()
    module, spy = make(CoTeachingPlus, 20, monkeypatch, w2=w2, b2=b2, init_epoch=0)
    assert module.training_loss(batch()) is None
    assert spy.reduced == [(0.0, "sum")]
    assert spy.logs == [] and spy.kept is None
    # the batch is still observed, with nothing kept
    counts = module.outcomes.counts()
    assert int(counts["seen"]) == 6 and int(counts["kept"]) == 0


def test_coteaching_plus_does_not_skip_when_another_rank_disagrees(monkeypatch):
    # locally no disagreement, but the summed count over ranks is 3: every rank must step together,
    # here with an empty selection (a zero loss that still carries a graph)
    w2 = (2 * np.array(W1)).tolist()
    b2 = (2 * np.array(B1)).tolist()
    module, spy = make(CoTeachingPlus, 20, monkeypatch, w2=w2, b2=b2, init_epoch=0, global_disagreement=3)
    loss = module.training_loss(batch())
    assert loss is not None and loss.item() == 0.0 and loss.requires_grad
    assert spy.kept == [[False] * 6, [False] * 6]


@pytest.mark.parametrize("epoch, batch_idx, trains", [(20, 3, True), (20, 249, True), (20, 250, False)])
def test_coteaching_plus_reference_option_trains_on_the_whole_batch_early(monkeypatch, epoch, batch_idx, trains):
    # no_disagreement=reference: with no disagreement, CE on the whole batch while epoch x batch index < 5000
    w2, b2 = (2 * np.array(W1)).tolist(), (2 * np.array(B1)).tolist()
    module, spy = make(CoTeachingPlus, epoch, monkeypatch, w2=w2, b2=b2, init_epoch=0, no_disagreement="reference")
    module.batch_in_epoch = batch_idx  # the reference's step counter: epoch x batch index
    loss = module.training_loss(batch())
    if not trains:
        assert loss is None
        return
    expected = np_ce(W1, B1).mean() + np_ce(w2, b2).mean()
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_coteaching_plus_reference_option_keeps_all_of_d_when_the_count_is_zero(monkeypatch):
    # R = 0.9 over |D| = 4 keeps floor(0.4) = 0: skip-mode trains on nothing, reference on all of D
    for mode, kept in (("skip", [False] * 6), ("reference", [p in DISAGREE for p in range(6)])):
        module, spy = make(CoTeachingPlus, 20, monkeypatch, init_epoch=0, forget_rate=0.9, num_gradual=1,
                           no_disagreement=mode)
        module.training_loss(batch())
        assert spy.kept == [kept, kept], mode
