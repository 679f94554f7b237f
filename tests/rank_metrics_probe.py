"""A callback for DDP tests (``+callbacks.rank_metrics._target_=rank_metrics_probe.RankMetrics`` with tests/ on
PYTHONPATH): at the end of training each process writes the epoch-level metrics it holds to
``<out>/rank<r>.json``, so a test can see what every rank logged, not only rank 0's metrics.csv."""
import json
from pathlib import Path

from lightning.pytorch import Callback


class RankMetrics(Callback):
    def __init__(self, out: str):
        self.out = Path(out)

    def on_train_end(self, trainer, pl_module) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
        (self.out / f"rank{trainer.global_rank}.json").write_text(json.dumps(metrics, sort_keys=True))
