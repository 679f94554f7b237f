"""Every method of conf/method/ under DDP: two CPU processes train it, every rank ends with the same weights
and the same per-sample state (state shared across ranks, gradients all-reduced), and the run's noisy labels
are those of a one-process run. Where a method's steps do not depend on how the batch is split,
tests/methods/test_per_sample_ddp.py compares the state itself with one process's. The ranks are forked from
the test's process (conftest.DDP_FORK); torchrun's launch is tested in tests/test_multinode.py."""
import json

import pytest
import torch
from conftest import DDP_FORK
from lightning.pytorch import Callback
from method_configs import METHODS, fast

COMMON = ["noise=sym0.4", "trainer.max_epochs=2", "+trainer.limit_train_batches=2", "diagnostics=none"]


class DumpState(Callback):
    """Each rank writes its networks' weights and per-sample state to ``out/rank<r>.pt`` when training ends."""

    def __init__(self, out):
        self.out = out

    def on_train_end(self, trainer, pl_module) -> None:
        state = {"weights": {k: v.detach().cpu() for k, v in pl_module.state_dict().items()},
                 "per_sample": {} if pl_module.per_sample is None else
                 {n: getattr(pl_module.per_sample, n).cpu() for n in pl_module.per_sample.names}}
        self.out.mkdir(parents=True, exist_ok=True)
        torch.save(state, self.out / f"rank{trainer.global_rank}.pt")


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS)
def test_every_method_under_ddp_keeps_its_ranks_identical(fit, tmp_path, method):
    cache = f"paths.cache_dir={tmp_path / 'cache'}"  # RHO-LOSS's irreducible losses: stored by the first run
    one, _ = fit(*fast(method), *COMMON, cache, name="one")
    _, run = fit(*fast(method), *COMMON, cache, *DDP_FORK, "logger=csv", name="ddp",
                 callbacks=[DumpState(tmp_path / "ranks")])
    a, b = (torch.load(tmp_path / "ranks" / f"rank{k}.pt", weights_only=False) for k in (0, 1))
    for key in a["weights"]:
        torch.testing.assert_close(b["weights"][key], a["weights"][key], rtol=0, atol=0, msg=key)
    assert sorted(a["per_sample"]) == sorted(b["per_sample"])
    for name in a["per_sample"]:
        torch.testing.assert_close(b["per_sample"][name], a["per_sample"][name], rtol=0, atol=0, msg=name)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["epochs"] == 2
    assert summary["noise"]["checksum"] == one["noise"]["checksum"]
