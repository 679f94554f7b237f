"""method.selection_scope=global: N DDP processes keep exactly the samples one process keeps from the same
global batch (small-loss selection of Co-teaching / JoCoR, RHO-LOSS's top-k), step after step."""
import json
import subprocess
import sys

import pytest
from conftest import ROOT

COMMON = ["noise=sym0.4", "model=mlp", "trainer.max_epochs=1", "method.num_gradual=0"]


def probe(out, *overrides):
    r = subprocess.run([sys.executable, str(ROOT / "tests" / "global_selection_probe.py"), str(out), *overrides],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    ranks = sorted(out.glob("steps_rank*.json"))
    steps = [json.loads(p.read_text()) for p in ranks]
    # the global batch of each step: the ranks' batches together, and what they kept together
    return [{"batch": sorted(sum((s[i]["batch"] for s in steps), [])),
             "kept": sorted(sum((s[i]["kept"] for s in steps), []))} for i in range(len(steps[0]))]


@pytest.mark.slow
@pytest.mark.parametrize("method", [["method=coteaching"],  # JoCoR selects through the same code
                                    ["method=rholoss", "stages.irreducible_loss.epochs=2", "data.batch_size=128"]],
                         ids=["coteaching", "rholoss"])
def test_two_processes_with_global_scope_keep_what_one_process_keeps(tmp_path, method):
    overrides = [*COMMON, *method] if method[0] != "method=rholoss" else [*COMMON[:3], *method]
    one = probe(tmp_path / "one", *overrides, "trainer=cpu")
    two = probe(tmp_path / "two", *overrides, "trainer=ddp_cpu", "method.selection_scope=global")
    assert len(one) == len(two) >= 3
    for step, (a, b) in enumerate(zip(one, two)):
        assert a["batch"] == b["batch"], step  # the same global batches
        assert a["kept"] == b["kept"], step
        assert 0 < len(a["kept"]) < len(a["batch"])


@pytest.mark.slow
def test_local_scope_selects_per_process(tmp_path):
    overrides = [*COMMON, "method=coteaching"]
    one = probe(tmp_path / "one", *overrides, "trainer=cpu")
    two = probe(tmp_path / "two", *overrides, "trainer=ddp_cpu")
    assert [a["batch"] for a in one] == [b["batch"] for b in two]
    assert any(a["kept"] != b["kept"] for a, b in zip(one, two))  # each process keeps its own small-loss share
