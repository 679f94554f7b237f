"""Run by tests/methods/test_global_selection.py as `python tests/global_selection_probe.py OUT OVERRIDES...`:
a real run from the composed configs (run directory OUT/run) that records, per training step, the global
indices of this process's batch and of the samples its selection kept; each process writes
OUT/steps_rank<r>.json (Lightning's DDP launcher runs this script again for the other process)."""
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from conftest import compose_cfg  # noqa: E402

from noisyrobust.methods.base import NoisyLabelModule  # noqa: E402
from noisyrobust.run import train  # noqa: E402

STEPS = []
_observe = NoisyLabelModule.observe


def observe(self, logits, given, index, kept=None):
    if self._recording and kept is not None:
        STEPS.append({"batch": sorted(index.tolist()), "kept": sorted(index[kept].tolist())})
    return _observe(self, logits, given, index, kept)


if __name__ == "__main__":
    out = Path(sys.argv[1])
    NoisyLabelModule.observe = observe
    train(compose_cfg(out / "run", *sys.argv[2:]))
    rank = int(os.environ.get("LOCAL_RANK", 0))
    (out / f"steps_rank{rank}.json").write_text(json.dumps(STEPS))
