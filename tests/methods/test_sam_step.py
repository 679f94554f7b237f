"""One SAM step through the real ``NoisyLabelModule.training_step`` under a real Lightning Trainer (CPU,
one batch of 16, one epoch) on small nets with BatchNorm. Expectations are computed in the test:
BatchNorm statistics from one forward of a copy of the initial net, the weights from a hand-written
two-pass update (gradient at w, ascent, gradient at w + e, SGD step from w), the diagnostics from the
same step under plain SGD."""
import copy
from functools import partial

import pytest
import torch
import torch.nn.functional as F
from lightning.pytorch import Callback, LightningDataModule, Trainer
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from noisyrobust.losses import CrossEntropy
from noisyrobust.methods import CoTeaching, JoCoR, Standard
from noisyrobust.optim import SAM

N, D, C = 16, 4, 3
RHO, LR = 0.5, 0.5


def data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N, D, generator=g) * 2 + 1  # BatchNorm's running mean moves visibly from 0
    y = torch.randint(0, C, (N,), generator=g)
    clean = y.clone()
    clean[:5] = (y[:5] + 1) % C  # five noisy labels
    return x, y, torch.arange(N), clean


class OneBatch(LightningDataModule):
    def __init__(self):
        super().__init__()
        self.x, self.y, self.index, self.clean_labels = data()

    def train_dataloader(self):
        return DataLoader(TensorDataset(self.x, self.y, self.index), batch_size=N)


def net_with_batchnorm(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(D, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, C))


def sam(rho=RHO):
    return partial(SAM, base_optimizer=partial(torch.optim.SGD, lr=LR), rho=rho)


def make(method, optimizer, nets):
    if method is Standard:
        return Standard(net=nets[0], loss=CrossEntropy(), num_classes=C, optimizer=optimizer)
    return method(net1=nets[0], net2=nets[1], num_classes=C, optimizer=optimizer, forget_rate=0.25, num_gradual=1)


class DiagnosticsAtStepEnd(Callback):
    """The diagnostic metrics' states right after the step (the epoch end resets them)."""

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        self.states = {key: int(value) for key, value in module.outcomes.counts().items()}


def train_one_step(module):
    spy = DiagnosticsAtStepEnd()
    trainer = Trainer(accelerator="cpu", devices=1, max_epochs=1, logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0,
                      num_sanity_val_steps=0, callbacks=[spy])
    trainer.fit(module, datamodule=OneBatch())
    return trainer, spy.states


def bn_buffers(net):
    return {k: v.clone() for k, v in net.state_dict().items() if "running" in k or "num_batches" in k}


def hand_two_pass(net, x, y):
    """SGD from w with the gradient at w + rho g / ||g||, BatchNorm normalizing with batch statistics."""
    ref = copy.deepcopy(net).train()
    params = list(ref.parameters())
    w = [p.detach().clone() for p in params]
    g = torch.autograd.grad(F.cross_entropy(ref(x), y), params)
    norm = torch.sqrt(sum((gi ** 2).sum() for gi in g))
    with torch.no_grad():
        for p, gi in zip(params, g):
            p.add_(RHO * gi / norm)
    g_ascended = torch.autograd.grad(F.cross_entropy(ref(x), y), params)
    return [wi - LR * gi for wi, gi in zip(w, g_ascended)]


def test_sam_step_updates_batchnorm_statistics_once_and_weights_by_the_two_pass_rule():
    net = net_with_batchnorm()
    initial = copy.deepcopy(net)
    x, y, _, _ = data()
    one_forward = copy.deepcopy(net).train()
    one_forward(x)
    expected_weights = hand_two_pass(initial, x, y)

    trainer, _ = train_one_step(make(Standard, sam(), [net]))

    assert trainer.global_step == 1  # one optimizer step for the two passes
    for key, value in bn_buffers(one_forward).items():
        assert torch.equal(bn_buffers(net)[key], value), key
    assert int(net[1].num_batches_tracked) == 1
    for got, want in zip(net.parameters(), expected_weights):
        torch.testing.assert_close(got.detach(), want, rtol=1e-5, atol=1e-6)

    # the check has teeth: a second forward at w + e would have moved the statistics elsewhere
    twice = copy.deepcopy(one_forward)
    with torch.no_grad():
        for p, w in zip(twice.parameters(), expected_weights):
            p.copy_(w)
        twice(x)
    assert not torch.allclose(bn_buffers(twice)["1.running_mean"], bn_buffers(net)["1.running_mean"])


@pytest.mark.parametrize("method", [Standard, CoTeaching, JoCoR])
def test_diagnostics_are_recorded_once_per_sam_step(method):
    _, with_sam = train_one_step(make(method, sam(), [net_with_batchnorm(1), net_with_batchnorm(2)]))
    _, with_sgd = train_one_step(make(method, partial(torch.optim.SGD, lr=LR), [net_with_batchnorm(1),
                                                                               net_with_batchnorm(2)]))
    assert with_sam == with_sgd
    masks = 2 if method is CoTeaching else 1  # Co-teaching scores both networks' selections
    assert with_sam["seen"] == masks * N
    assert with_sam["noisy"] + with_sam["clean"] == N
    assert with_sam["noisy"] == 5 and with_sam["samples"] == N


class NoUpdateAtTheAscendedPoint(Standard):
    """Like Co-teaching+ when the networks agree everywhere at w + e: the second pass returns None."""

    def training_loss(self, batch, selected=None):
        loss = super().training_loss(batch)
        self.passes = getattr(self, "passes", 0) + 1
        return None if self.passes == 2 else loss


def test_no_loss_at_the_ascended_point_restores_w_and_skips_the_step():
    net = net_with_batchnorm()
    initial = copy.deepcopy(net)
    x, _, _, _ = data()
    one_forward = copy.deepcopy(net).train()
    one_forward(x)
    module = NoUpdateAtTheAscendedPoint(net=net, loss=CrossEntropy(), num_classes=C, optimizer=sam())

    trainer, states = train_one_step(module)

    assert trainer.global_step == 0
    for got, want in zip(net.parameters(), initial.parameters()):
        assert torch.equal(got, want)
    assert bn_buffers(net).keys() == bn_buffers(one_forward).keys()
    for key, value in bn_buffers(one_forward).items():
        assert torch.equal(bn_buffers(net)[key], value), key
    assert states["samples"] == N  # the first pass was still observed, once
