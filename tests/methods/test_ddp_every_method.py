"""Every method of conf/method/ under DDP: two CPU processes launched by torchrun train it, every rank ends
with the same weights and the same per-sample state (state shared across ranks, gradients all-reduced), and the
run's noisy labels are those of a one-process run. Where a method's steps do not depend on how the batch is
split, tests/methods/test_per_sample_ddp.py compares the state itself with one process's."""
import json
import os
import socket
import subprocess
import sys

import pytest
import torch
from conftest import ROOT
from method_configs import METHODS, fast


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_every_method_under_ddp_keeps_its_ranks_identical(fit, tmp_path):
    cache = tmp_path / "cache"
    one = {}
    for method in METHODS:  # first in one process: it also stores RHO-LOSS's irreducible losses for the launch
        one[method], _ = fit(*fast(method), "noise=sym0.4", "trainer.max_epochs=2", "+trainer.limit_train_batches=2",
                             "diagnostics=none", f"paths.cache_dir={cache}", name=f"one_{method}")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node=2", "--master-addr=127.0.0.1",
           f"--master-port={free_port()}", str(ROOT / "tests" / "ddp_every_method_probe.py"), str(tmp_path / "ddp"),
           str(cache), *METHODS]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900,
                       env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert r.returncode == 0, r.stderr[-4000:]
    for method in METHODS:
        run = tmp_path / "ddp" / method
        a, b = (torch.load(run / f"rank{k}.pt", weights_only=False) for k in (0, 1))
        for key in a["weights"]:
            torch.testing.assert_close(b["weights"][key], a["weights"][key], rtol=0, atol=0, msg=f"{method}: {key}")
        assert sorted(a["per_sample"]) == sorted(b["per_sample"])
        for name in a["per_sample"]:
            torch.testing.assert_close(b["per_sample"][name], a["per_sample"][name], rtol=0, atol=0,
                                       msg=f"{method}: {name}")
        summary = json.loads((run / "summary.json").read_text())
        assert summary["epochs"] == 2
        assert summary["noise"]["checksum"] == one[method]["noise"]["checksum"], method
