"""The end of a run: ``summary.json`` assembled from the facts the pipeline knew when it built the run, the
module's evaluation history, and every ``SummaryCallback``'s part; and the few lines a user reads."""
import json
import time
from pathlib import Path

from lightning.pytorch import Callback

from noisyrobust.callbacks import SummaryCallback
from noisyrobust.diagnostics import summarize_history
from noisyrobust.files import atomic_write
from noisyrobust.label_issues.table import format_label_issues


def _json_safe(obj):
    """NaN (an unknown, e.g. Clothing1M's realized rate) becomes null: JSON has no NaN."""
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    return [_json_safe(v) for v in obj] if isinstance(obj, list) else obj


def write_json_atomic(path: Path, obj: dict) -> None:
    with atomic_write(path, "w") as f:
        f.write(json.dumps(_json_safe(obj), indent=2, allow_nan=False) + "\n")


class RunSummary(Callback):
    """Last among the run's callbacks: when the fit has ended (every other callback has finished in its own
    hooks), ``summary`` holds the run's summary; rank 0 writes it to ``run_dir/summary.json`` and prints it.

    ``facts``: what the pipeline knew when it built the run (method, data, noise, seed, stages, inputs)."""

    def __init__(self, facts: dict, run_dir: Path, start: float):
        self.facts, self.run_dir, self.start = facts, Path(run_dir), start
        self.summary: dict = {}

    def on_fit_end(self, trainer, pl_module) -> None:
        head = {k: self.facts[k] for k in ("method", "data", "noise", "seed")}
        parts = {k: v for c in trainer.callbacks if isinstance(c, SummaryCallback) for k, v in c.summary().items()}
        self.summary = {**head, **summarize_history(pl_module.history),
                        "epochs": trainer.current_epoch,  # trained; the history holds only the evaluated ones
                        **pl_module.summary_facts(),
                        **{k: v for k, v in self.facts.items() if k not in head},
                        **parts, "run_dir": str(self.run_dir.resolve()),
                        "wall_time_s": round(time.time() - self.start, 1)}
        if trainer.is_global_zero:
            write_json_atomic(self.run_dir / "summary.json", self.summary)
            print(format_summary(self.summary), flush=True)


def format_summary(s: dict) -> str:
    """The few lines a user reads at the end of a run."""
    noise = s["noise"]
    realized = noise["realized_rate"]
    realized = f"{realized:.3f}" if realized == realized else "unknown"  # NaN: no clean labels known
    if "reference_rate" in noise:
        realized += f"; {noise['reference_rate']:.3f} as measured in the release"
    lines = [f"\n{s['method']} on {s['data']}, noise {noise['name']} "
             f"(realized {realized}), seed {s['seed']}, {s.get('epochs', 0)} epochs "
             f"in {s['wall_time_s']:.0f}s"]
    if "test_acc_last" in s:
        parts = [f"last {100 * s['test_acc_last']:.2f}",
                 f"mean of last {s.get('test_acc_mean_epochs', 10)} {100 * s['test_acc_mean_last10']:.2f}"]
        if "test_acc_at_best_val" in s:
            parts.append(f"at best val (epoch {s['best_val_epoch']}) {100 * s['test_acc_at_best_val']:.2f}")
        parts.append(f"best, test-selected {100 * s['test_acc_best_test_selected']:.2f}")
        lines.append("test accuracy %: " + " | ".join(parts))
    epochs = s.get("test_acc_mean_epochs", 10)
    if "test_acc_top5_last" in s:
        lines.append(f"test top-5 accuracy %: last {100 * s['test_acc_top5_last']:.2f} | mean of last {epochs} "
                     f"{100 * s['test_acc_top5_mean_last10']:.2f}")
    for name in sorted(k[:-len("_acc_last")] for k in s if k.endswith("_acc_last") and k != "test_acc_last"):
        parts = [f"last {100 * s[f'{name}_acc_last']:.2f}",
                 f"mean of last {epochs} {100 * s[f'{name}_acc_mean_last10']:.2f}"]
        if f"{name}_acc_top5_last" in s:
            parts.append(f"top-5 last {100 * s[f'{name}_acc_top5_last']:.2f}")
        lines.append(f"{name.replace('_', ' ')} accuracy % (a further test set): " + " | ".join(parts))
    lines += format_label_issues(s.get("label_issues"))
    lines.append(f"run directory: {s['run_dir']}")
    return "\n".join(lines)
