"""No host sync in a training step (no host sync in the hot path): every method's training step (forward, loss,
selection, diagnostics, backward, optimizer step, logging) runs without reading a device value on the
host. On the CPU a TorchFunctionMode refuses the calls that would synchronize on a GPU (.item(), bool(),
int(), float(), .tolist(), .numpy(), .nonzero(), boolean-mask indexing, ...); on a GPU,
torch.cuda.set_sync_debug_mode("error") refuses any synchronizing CUDA call. Co-teaching+ syncs once per
step by design after its init_epoch (skipping an update is a host decision), so it is checked before it."""
import functools
import sys

import pytest
import torch
from torch.overrides import TorchFunctionMode

from method_configs import METHODS, fast, method_config

from noisyrobust.methods.base import NoisyLabelModule

SYNCING = {torch.Tensor.item, torch.Tensor.tolist, torch.Tensor.numpy, torch.Tensor.__bool__, torch.Tensor.__int__,
           torch.Tensor.__float__, torch.Tensor.__index__, torch.Tensor.nonzero, torch.nonzero, torch.masked_select,
           torch.Tensor.masked_select, torch.unique, torch.Tensor.unique, torch.Tensor.cpu}

# every method of conf/method/, and one more: SAM's two passes through a CNN
RUNS = {method: [*fast(method), "noise=sym0.4"] for method in METHODS}
RUNS["jocor_sam_cnn"] = [*fast("jocor"), "noise=sym0.4", "optimizer=sam", "model=cnn_jocor"]
for method in METHODS:  # a method that syncs by design after its init_epoch (Co-teaching+) is checked before it
    if "init_epoch" in method_config(method).method:
        RUNS[method].append("method.init_epoch=100")


class RefuseHostSync(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        masked = func is torch.Tensor.__getitem__ and any(
            isinstance(a, torch.Tensor) and a.dtype == torch.bool for a in _flat(args[1:]))
        if (func in SYNCING or masked) and not _from_torch_optim():
            raise AssertionError(f"host sync in a training step: {getattr(func, '__name__', func)}")
        return func(*args, **(kwargs or {}))


def _from_torch_optim() -> bool:
    """torch.optim's own reads: its step counts stay on the host unless capturable, so they read no device."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("torch.overrides"):
        frame = frame.f_back
    return frame is not None and frame.f_globals.get("__name__", "").startswith("torch.optim")


def _flat(items):
    for item in items:
        yield from (_flat(item) if isinstance(item, (tuple, list)) else [item])


def guarded(step, guard):
    @functools.wraps(step)
    def training_step(self, *args, **kwargs):
        if getattr(self, "_guarded", False):  # an override calling the base's: one guard (modes would nest)
            return step(self, *args, **kwargs)
        self._guarded = True
        try:
            with guard():
                return step(self, *args, **kwargs)
        finally:
            self._guarded = False
    return training_step


def guard_every_training_step(monkeypatch, guard):
    """The base's training step (select, the loss passes, the update, after_update) and any override of it."""
    classes, todo = [], [NoisyLabelModule]
    while todo:
        cls = todo.pop()
        classes.append(cls)
        todo.extend(cls.__subclasses__())
    for cls in classes:
        if "training_step" in vars(cls):
            monkeypatch.setattr(cls, "training_step", guarded(vars(cls)["training_step"], guard))


def test_the_guard_sees_a_sync():
    with pytest.raises(AssertionError, match="item"), RefuseHostSync():
        torch.ones(2).sum().item()
    with pytest.raises(AssertionError, match="__getitem__"), RefuseHostSync():
        torch.ones(2)[torch.tensor([True, False])]


@pytest.mark.parametrize("run", sorted(RUNS))
def test_training_steps_read_nothing_from_the_device_on_the_cpu(fit, monkeypatch, run):
    guard_every_training_step(monkeypatch, RefuseHostSync)
    summary, _ = fit(*RUNS[run], "+trainer.limit_train_batches=3")
    assert summary["epochs"] == 2


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("run", sorted(RUNS))
def test_training_steps_do_not_synchronize_the_gpu(fit, monkeypatch, run):
    def sync_is_an_error():
        class Mode:
            def __enter__(self):
                torch.cuda.set_sync_debug_mode("error")

            def __exit__(self, *exc):
                torch.cuda.set_sync_debug_mode("default")
        return Mode()

    guard_every_training_step(monkeypatch, sync_is_an_error)
    summary, _ = fit("trainer=gpu", *RUNS[run], "+trainer.limit_train_batches=3")
    assert summary["epochs"] == 2
