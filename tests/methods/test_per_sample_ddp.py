"""Per-sample state under DDP: with an MLP (no BatchNorm, no dropout), two CPU processes (gloo, each half of
the global batch) and one process reach the same ELR targets, SOP u/v (the 1/W factor of SOP's per-rank mean:
without it the DDP rows move twice as far) and DivideMix clean probabilities (pass gathered over the ranks,
each sample once; GMM on rank 0, broadcast)."""
import pytest
import torch
from conftest import DDP_FORK

COMMON = ["noise=sym0.4", "model=mlp", "diagnostics=none", "logger=csv"]
CASES = {"elr": ["trainer.max_epochs=1"], "sop": ["trainer.max_epochs=1", "method.std=0.1"],
         "dividemix": ["trainer.max_epochs=2", "method.warmup_epochs=1"]}


def per_sample(run_dir):
    return torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)["per_sample"]


@pytest.mark.parametrize("method", sorted(CASES))
def test_state_after_an_epoch_is_the_same_on_two_processes_and_one(fit, method):
    args = [f"method={method}", *COMMON, *CASES[method]]
    _, one = fit(*args, name="one")
    _, ddp = fit(*args, *DDP_FORK, name="ddp")
    a, b = per_sample(one), per_sample(ddp)
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name].abs().sum() > 0, name  # the state was written
        torch.testing.assert_close(b[name], a[name], rtol=1e-4, atol=1e-5, msg=f"{method}: {name}")
    if method == "sop":  # u moved from its N(0, 0.1²) start by lr_u * grad: the step itself matches, not only the sign
        start = torch.randn(len(a["u"]), 1, generator=torch.Generator().manual_seed(0)) * 0.1
        assert (a["u"] - start).abs().max() > 1e-4


@pytest.mark.parametrize("method, extra", [("sop", ["method.std=0.1"]), ("dividemix", ["method.warmup_epochs=1"]),
                                           ("gce_truncated", ["method.prune_start=2", "method.prune_every=1"])])
def test_a_resumed_run_reaches_the_per_sample_state_of_an_uninterrupted_one(fit, method, extra):
    common = [f"method={method}", *COMMON, "trainer.max_epochs=4", *extra]
    _, full = fit(*common, name="full")
    _, half = fit(*common, "+trainer.max_steps=20", name="half")  # 2 of 4 epochs (10 steps each)
    _, resumed = fit(*common, f"ckpt_path={half}/checkpoints/last.ckpt", name="resumed")
    a, b = per_sample(full), per_sample(resumed)
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=1e-5, atol=1e-6, msg=f"{method}: {name}")
