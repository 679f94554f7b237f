"""One RHO-LOSS `training_loss` step, called directly (no Trainer) on a batch of 6: the kept points are the
top CE - IL of a pass in eval mode, the loss is the mean CE over them, BatchNorm sees the kept points
once, SAM's second pass gets the same selection and records nothing, the noisy shares are logged.
Expectations are computed independently here (torch.nn.functional and plain sorted())."""
import copy
from functools import partial
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from noisyrobust.errors import UserError
from noisyrobust.methods import RHOLoss

X = [[0.5, -0.9, 0.4, -0.2],
     [-0.5, 0.8, 0.3, 0.7],
     [-0.9, -0.7, 0.8, 0.9],
     [-0.3, 0.2, -0.9, 0.2],
     [-0.7, 0.0, -0.9, 0.5],
     [-0.2, 0.9, -0.8, 0.8]]
Y = [0, 1, 2, 0, 1, 2]
INDEX = [10, 11, 12, 13, 14, 15]
CLEAN = [0] * 10 + [1, 1, 2, 0, 1, 0]  # positions 0 and 5 carry noisy labels
IL = [0.0] * 10 + [3.0, 0.2, 0.4, 0.1, 0.9, 2.5]  # the holdout model cannot fit the noisy labels either


def batch():
    return torch.tensor(X), torch.tensor(Y), torch.tensor(INDEX)


def step_loss(module, b=None):
    """One loss pass as the training step runs it: the batch's selection, then the loss over it."""
    b = batch() if b is None else b
    return module.training_loss(b, module.select(b))


def bn_net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4, 3))


def make(tmp_path, monkeypatch, net, **kwargs):
    kwargs = {"keep_ratio": 0.5, **kwargs}
    module = RHOLoss(net=net, num_classes=3, optimizer=partial(torch.optim.Adam, lr=1e-3),
                     irreducible_loss=torch.tensor(IL), **kwargs)
    module.register_buffer("clean_labels", torch.tensor(CLEAN), persistent=False)
    spy = SimpleNamespace(logs={})
    monkeypatch.setattr(module, "log_step", lambda metrics: spy.logs.update(metrics))
    module.train()
    return module, spy


def expected_kept(net, k=3):
    """Positions of the k largest CE - IL, CE from ``net`` in eval mode, ties to the lower position."""
    net = copy.deepcopy(net).eval()
    with torch.no_grad():
        ce = F.cross_entropy(net(torch.tensor(X)), torch.tensor(Y), reduction="none")
    reducible = (ce - torch.tensor(IL[10:])).tolist()
    return sorted(sorted(range(6)), key=lambda i: -reducible[i])[:k]


def test_step_trains_on_the_top_reducible_loss_points_with_mean_ce(tmp_path, monkeypatch):
    torch.manual_seed(1)
    net = nn.Linear(4, 3)
    module, _ = make(tmp_path, monkeypatch, net)
    kept = expected_kept(net)
    assert 0 not in kept and 5 not in kept  # the noisy points: high IL
    loss = step_loss(module)
    x, y = torch.tensor(X), torch.tensor(Y)
    assert loss.item() == pytest.approx(F.cross_entropy(net(x[kept]), y[kept]).item(), rel=1e-6)
    assert module.outcomes.compute()["select/ratio"].item() == pytest.approx(0.5)
    loss.backward()
    assert net.weight.grad is not None and net.weight.grad.abs().sum() > 0


def test_selection_pass_runs_in_eval_mode_and_batchnorm_sees_only_the_kept_points(tmp_path, monkeypatch):
    net = bn_net()
    reference = copy.deepcopy(net)
    module, _ = make(tmp_path, monkeypatch, net)
    kept = expected_kept(reference)
    torch.manual_seed(7)
    step_loss(module)
    assert net.training and all(m.training for m in net.modules())  # train mode restored
    reference.train()
    torch.manual_seed(7)
    reference(torch.tensor(X)[kept])  # one train-mode pass over the kept points only
    bn, ref_bn = net[1], reference[1]
    torch.testing.assert_close(bn.running_mean, ref_bn.running_mean)
    torch.testing.assert_close(bn.running_var, ref_bn.running_var)
    assert int(bn.num_batches_tracked) == 1


def test_selection_in_train_mode_when_configured_updates_batchnorm_twice(tmp_path, monkeypatch):
    net = bn_net()
    module, _ = make(tmp_path, monkeypatch, net, selection_eval_bn=False)
    step_loss(module)
    assert int(net[1].num_batches_tracked) == 2  # the reference implementation's behaviour


def test_second_pass_reuses_the_selection_and_records_nothing(tmp_path, monkeypatch):
    torch.manual_seed(1)
    net = nn.Linear(4, 3)
    module, spy = make(tmp_path, monkeypatch, net)
    kept = expected_kept(net)
    selected = module.select(batch())
    module.training_loss(batch(), selected)
    seen = module.outcomes.counts()["seen"].item()
    logged = dict(spy.logs)
    with torch.no_grad():  # as SAM's ascent: other weights, under which other points would be selected
        net.weight.mul_(-3.0)
    with module.second_pass():
        loss = module.training_loss(batch(), selected)
    x, y = torch.tensor(X), torch.tensor(Y)
    assert loss.item() == pytest.approx(F.cross_entropy(net(x[kept]), y[kept]).item(), rel=1e-6)
    assert expected_kept(net) != kept
    assert module.outcomes.counts()["seen"].item() == seen and spy.logs.keys() == logged.keys()
    assert module.noisy_share.update_count == 1


def test_noisy_share_of_the_selected_points_and_of_the_large_batch_are_logged(tmp_path, monkeypatch):
    torch.manual_seed(1)
    module, spy = make(tmp_path, monkeypatch, nn.Linear(4, 3), selection="loss")
    step_loss(module)
    with torch.no_grad():
        ce = F.cross_entropy(module.nets[0](torch.tensor(X)), torch.tensor(Y), reduction="none").tolist()
    kept = sorted(range(6), key=lambda i: -ce[i])[:3]
    noisy = {0, 5}
    share = len(noisy & set(kept)) / 3
    assert spy.logs["select/noisy_share_step"].item() == pytest.approx(share)
    assert spy.logs["select/noisy_share_pool_step"].item() == pytest.approx(2 / 6)
    assert module.noisy_share.compute().item() == pytest.approx(share)  # the epoch mean so far
    assert module.noisy_share_pool.compute().item() == pytest.approx(2 / 6)


@pytest.mark.parametrize("kwargs, message", [
    ({"selection": "smallest"}, "method.selection=smallest is unknown; choose from: reducible_loss, loss"),
    ({"keep_ratio": 0.0}, "method.keep_ratio=0.0 is outside (0, 1]"),
])
def test_bad_options_are_one_clear_error(tmp_path, kwargs, message):
    with pytest.raises(UserError) as e:
        RHOLoss(net=nn.Linear(4, 3), num_classes=3, optimizer=torch.optim.Adam, **kwargs)
    assert message in str(e.value)


@pytest.mark.parametrize("kwargs, message", [
    ({"holdout_fraction": 1.0}, "stages.irreducible_loss.holdout_fraction=1.0 is outside (0, 1)"),
    ({"epochs": 0}, "stages.irreducible_loss.epochs=0 must be >= 1"),
])
def test_bad_stage_options_are_one_clear_error(kwargs, message):
    from noisyrobust.stages import IrreducibleLossStage

    with pytest.raises(UserError) as e:
        IrreducibleLossStage(model={}, optimizer={}, num_classes=3, cache_dir="/tmp", key={}, **kwargs)
    assert message in str(e.value)
