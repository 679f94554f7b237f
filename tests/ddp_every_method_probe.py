"""Run by tests/methods/test_ddp_every_method.py as `torchrun --nproc-per-node=2 tests/ddp_every_method_probe.py
OUT CACHE METHOD...`: each method trains on two CPU processes (gloo) into OUT/<method>, and every rank writes
its networks' weights and per-sample state to OUT/<method>/rank<r>.pt when training ends."""
import os
import sys
from pathlib import Path

import torch
from lightning.pytorch import Callback

sys.path.insert(0, str(Path(__file__).parent))
from conftest import compose_cfg  # noqa: E402
from method_configs import fast  # noqa: E402

from noisyrobust.run import train  # noqa: E402

COMMON = ["noise=sym0.4", "trainer=ddp_cpu", "trainer.max_epochs=2", "+trainer.limit_train_batches=2",
          "diagnostics=none", "logger=csv"]


class DumpState(Callback):
    def __init__(self, path: Path):
        self.path = path

    def on_train_end(self, trainer, pl_module) -> None:
        state = {"weights": {k: v.detach().cpu() for k, v in pl_module.state_dict().items()},
                 "per_sample": {} if pl_module.per_sample is None else
                 {n: getattr(pl_module.per_sample, n).cpu() for n in pl_module.per_sample.names}}
        torch.save(state, self.path / f"rank{trainer.global_rank}.pt")


if __name__ == "__main__":
    out, cache = Path(sys.argv[1]), sys.argv[2]
    for method in sys.argv[3:]:
        cfg = compose_cfg(out / method, *fast(method), *COMMON, f"paths.cache_dir={cache}")
        train(cfg, callbacks=[DumpState(out / method)])
    print("ranks done", os.environ.get("RANK"))
