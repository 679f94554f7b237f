"""method.selection_scope=global: N DDP processes keep exactly the samples one process keeps from the same
global batch (small-loss selection of Co-teaching / JoCoR, RHO-LOSS's top-k), step after step."""
import json

import pytest
from conftest import DDP_FORK
from lightning.pytorch import Callback

from noisyrobust.methods.base import NoisyLabelModule

COMMON = ["noise=sym0.4", "model=mlp", "trainer.max_epochs=1", "method.num_gradual=0"]


class RecordSteps(Callback):
    """Per training step, the global indices of this process's batch and of the samples its selection kept
    (what ``observe`` is given); each process writes them to ``out/steps_rank<r>.json`` when training ends."""

    def __init__(self, out, monkeypatch):
        self.out, self.steps = out, []
        observe = NoisyLabelModule.observe

        def recording(module, logits, given, index, kept=None):
            if module._recording and kept is not None:
                self.steps.append({"batch": sorted(index.tolist()), "kept": sorted(index[kept].tolist())})
            return observe(module, logits, given, index, kept)

        monkeypatch.setattr(NoisyLabelModule, "observe", recording)

    def on_train_end(self, trainer, pl_module) -> None:
        (self.out / f"steps_rank{trainer.global_rank}.json").write_text(json.dumps(self.steps))


def probe(fit, monkeypatch, name, *overrides):
    _, out = fit(*overrides, name=name, callbacks=[RecordSteps(fit.tmp_path / name, monkeypatch)])
    steps = [json.loads(p.read_text()) for p in sorted(out.glob("steps_rank*.json"))]
    # the global batch of each step: the ranks' batches together, and what they kept together
    return [{"batch": sorted(sum((s[i]["batch"] for s in steps), [])),
             "kept": sorted(sum((s[i]["kept"] for s in steps), []))} for i in range(len(steps[0]))]


@pytest.mark.slow
@pytest.mark.parametrize("method", [["method=coteaching"],  # JoCoR selects through the same code
                                    ["method=rholoss", "stages.irreducible_loss.epochs=2", "data.batch_size=128"]],
                         ids=["coteaching", "rholoss"])
def test_two_processes_with_global_scope_keep_what_one_process_keeps(fit, monkeypatch, method):
    overrides = [*COMMON, *method] if method[0] != "method=rholoss" else [*COMMON[:3], *method]
    one = probe(fit, monkeypatch, "one", *overrides)
    two = probe(fit, monkeypatch, "two", *overrides, *DDP_FORK, "method.selection_scope=global")
    assert len(one) == len(two) >= 3
    for step, (a, b) in enumerate(zip(one, two)):
        assert a["batch"] == b["batch"], step  # the same global batches
        assert a["kept"] == b["kept"], step
        assert 0 < len(a["kept"]) < len(a["batch"])


@pytest.mark.slow
def test_local_scope_selects_per_process(fit, monkeypatch):
    overrides = [*COMMON, "method=coteaching"]
    one = probe(fit, monkeypatch, "one", *overrides)
    two = probe(fit, monkeypatch, "two", *overrides, *DDP_FORK)
    assert [a["batch"] for a in one] == [b["batch"] for b in two]
    assert any(a["kept"] != b["kept"] for a, b in zip(one, two))  # each process keeps its own small-loss share
