"""What the label-issue scores cost, side by side in one process on the same data, model and noise.

The free scores (loss, AUM, forgetting, first-learned: read off the training step's own forward) are
timed against the same runs with `diagnostics=none`, alternating, as the ratio of fit times (epochs,
evaluation, checkpoints; start-up left out). Each costly score (vog, cl, cg, self_influence) is timed once
as the extra run time it adds, in epochs of the baseline. It also prints the device memory of the
per-sample state for N samples.

With ``--lengths``, instead: how well each score finds the wrong labels (AUROC, ce at sym0.4) against the
length of training, one run per length and seed, as a Markdown table (the README's, from which the
default score is chosen).

    python benchmarks/label_issue_scores.py                       # the bundled digits and real MNIST (8,000 train)
    python benchmarks/label_issue_scores.py --data digits --pairs 3 --epochs 20
    python benchmarks/label_issue_scores.py --lengths 10 20 40 70 100 --seeds 0 1
"""
import json
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from hydra import compose, initialize_config_dir
from lightning.pytorch import Callback
from omegaconf import open_dict

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_mnist import T10K, write_mnist_split  # noqa: E402

from noisyrobust.label_issues.dynamics import TrainingDynamics  # noqa: E402
from noisyrobust.run import train  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIT: list = []


class FitClock(Callback):
    def on_train_start(self, trainer, pl_module) -> None:
        FIT.append(time.perf_counter())

    def on_train_end(self, trainer, pl_module) -> None:
        FIT[-1] = time.perf_counter() - FIT[-1]


def run(data: list, out: Path, epochs: int, *extra) -> tuple:
    """(fit seconds, whole run seconds) of one CE run at sym0.4 on the CPU."""
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=["trainer=cpu", f"trainer.max_epochs={epochs}", "noise=sym0.4", *data,
                                           *extra])
    with open_dict(cfg):
        cfg.paths.output_dir = str(out)
        cfg.callbacks.fit_clock = {"_target_": "label_issue_scores.FitClock"}
    start = time.perf_counter()
    train(cfg)
    import label_issue_scores  # the module Hydra instantiated FitClock from (this file runs as __main__)

    return label_issue_scores.FIT[-1], time.perf_counter() - start


def auroc_by_length(data: list, name: str, tmp: Path, lengths: list, seeds: list) -> None:
    """Print one Markdown row per training length: each score's AUROC, the mean over ``seeds``."""
    rows = {}
    for epochs in lengths:
        found = []
        for seed in seeds:
            out = tmp / f"{name}-len{epochs}-seed{seed}"
            run(data, out, epochs, f"seed={seed}", "logger=csv")
            summary = json.loads((out / "summary.json").read_text())
            found.append(summary["label_issues"])
        scores = found[0]["scores"]
        rows[epochs] = ({s: statistics.mean(f["detection"][s]["auroc"] for f in found) for s in scores},
                        [f["validation_peak_epoch"] for f in found])
        print(f"{name} {epochs} epochs done", file=sys.stderr, flush=True)
    scores = list(next(iter(rows.values()))[0])
    print(f"\n{name}, ce at sym0.4, AUROC (mean of seeds {', '.join(map(str, seeds))}):\n")
    print("| epochs | validation peak | " + " | ".join(scores) + " |")
    print("|---" * (len(scores) + 2) + "|")
    for epochs, (auroc, peaks) in rows.items():
        print(f"| {epochs} | {', '.join(map(str, peaks))} | " + " | ".join(f"{auroc[s]:.3f}" for s in scores) + " |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", nargs="+", default=["digits", "mnist"], choices=["digits", "mnist"])
    p.add_argument("--pairs", type=int, default=3)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--extras", nargs="*", default=["vog", "cl", "cg", "self_influence"])
    p.add_argument("--lengths", type=int, nargs="*", help="AUROC of every score against these run lengths")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="label-issue-bench-"))
    for name in args.data:
        data = ["data=digits"] if name == "digits" else [
            "data=mnist", f"paths.data_dir={write_mnist_split(T10K, tmp / 'data')}", "data.source.download=false"]
        if args.lengths:
            auroc_by_length(data, name, tmp, args.lengths, args.seeds)
            continue
        ratios, base_fit = [], []
        for i in range(args.pairs):
            off, _ = run(data, tmp / f"{name}-off-{i}", args.epochs, "diagnostics=none")
            on, _ = run(data, tmp / f"{name}-on-{i}", args.epochs)
            ratios.append(on / off)
            base_fit.append(off)
            print(f"{name} pair {i + 1}: fit {off:.2f}s without the free scores, {on:.2f}s with them: {on / off:.3f}x")
        print(f"{name}: free scores cost {statistics.median(ratios):.3f}x an epoch (median of {args.pairs}; "
              f"min {min(ratios):.3f}, max {max(ratios):.3f})")
        epoch = statistics.median(base_fit) / args.epochs
        _, whole_off = run(data, tmp / f"{name}-base", args.epochs)
        for score in args.extras:
            _, whole = run(data, tmp / f"{name}-{score}", args.epochs, f"diagnostics.scores=[{score}]",
                           "diagnostics.cv_folds=5")
            print(f"{name}: {score} adds {whole - whole_off:.1f}s = {(whole - whole_off) / epoch:.1f} epochs "
                  f"of {epoch:.2f}s ({args.epochs}-epoch run)")
    for n in (50_000, 1_000_000) if not args.lengths else ():
        dyn = TrainingDynamics(n, 10)
        size = sum(b.numel() * b.element_size() for b in dyn.buffers())
        print(f"per-sample state of the free scores for {n:,} samples and 10 classes: {size / 2**20:.1f} MiB "
              f"({size / 2**20 / 4:.1f} MiB per score, the mean probabilities for suggested labels included)")


if __name__ == "__main__":
    main()
