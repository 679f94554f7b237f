"""What the label-issue scores cost, side by side in one process on the same data, model and noise.

The free scores (loss, AUM, forgetting, first-learned: read off the training step's own forward) are
timed against the same runs with `diagnostics=none`, alternating, as the ratio of fit times (epochs,
evaluation, checkpoints; start-up left out). Each costly score (vog, cl, cg, self_influence) is timed once
as the extra run time it adds, in epochs of the baseline. It also prints the device memory of the
per-sample state for N samples.

With ``--lengths``, instead: how well each score finds the wrong labels (AUROC, ce at sym0.4) against the
length of training, from the per-epoch trajectories of one run of the longest length per seed, as a
Markdown table (the README's, from which the default score is chosen).

    python benchmarks/label_issue_scores.py                       # the bundled digits and real MNIST (8,000 train)
    python benchmarks/label_issue_scores.py --data digits --pairs 3 --epochs 20
    python benchmarks/label_issue_scores.py --lengths 10 20 40 70 100 --seeds 0 1
"""
import argparse
import csv
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

import numpy as np  # noqa: E402
import torch  # noqa: E402

from noisyrobust.label_issues.detection import detection_quality  # noqa: E402
from noisyrobust.label_issues.dynamics import TrainingDynamics  # noqa: E402
from noisyrobust.label_issues.scores import area_under_margin, first_learned_epoch, forgetting_events  # noqa: E402
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


def scores_up_to(t: dict, stop: int) -> dict:
    """The free scores over epochs 0..stop-1 of a run's per-sample trajectories (``per_sample.npz``), with the
    finder's own formulas: what a run of ``stop`` epochs reports (no learning-rate schedule: a run's first
    epochs are those of a shorter run with the same seed)."""
    loss, margin, correct = (torch.as_tensor(t[k][:stop]) for k in ("loss", "margin", "correct"))
    seen = ~torch.isnan(loss)
    presentations = seen.sum(0).int()
    correct = correct.nan_to_num(0).bool() & seen
    first = torch.where(correct.any(0), correct.float().argmax(0), torch.tensor(-1)).int()
    forgotten, last, before = (torch.zeros(loss.shape[1], dtype=t) for t in (torch.int32, torch.bool, torch.bool))
    for s, c in zip(seen, correct):  # learned -> forgotten between consecutive presentations (drop_last skips some)
        forgotten += (s & before & last & ~c).int()
        last, before = torch.where(s, c, last), before | s
    first_margin = margin.gather(0, seen.float().argmax(0, keepdim=True))[0]
    return {"loss": (loss.nan_to_num(0).sum(0) / presentations).numpy(),
            "aum": (-area_under_margin(margin.nan_to_num(0).double().sum(0), first_margin, presentations)).numpy(),
            "forgetting": forgetting_events(forgotten, first, presentations).double().numpy(),
            "first_learned": first_learned_epoch(first, presentations).double().numpy()}


def auroc_by_length(data: list, name: str, tmp: Path, lengths: list, seeds: list) -> None:
    """Print one Markdown row per training length: each score's AUROC over the first E epochs of one run of
    max(lengths) epochs per seed, and each early_* score's over the epochs up to the noisy validation
    accuracy's peak within them (as the finder computes them), the mean over ``seeds``."""
    rows = {e: [] for e in lengths}
    for seed in seeds:
        out = tmp / f"{name}-len{max(lengths)}-seed{seed}"
        run(data, out, max(lengths), f"seed={seed}", "diagnostics.keep_trajectories=true")
        trajectories = dict(np.load(out / "per_sample.npz"))
        labels = np.load(out / "noisy_labels.npz")
        train = np.flatnonzero(~np.isnan(trajectories["loss"][0]))
        noisy = (labels["noisy"] != labels["clean"])[train]
        with (out / "metrics.csv").open() as f:
            val = {int(float(r["epoch"])): float(r["val/acc"]) for r in csv.DictReader(f) if r.get("val/acc")}
        for e in lengths:
            peak = max(range(e), key=lambda t: (val[t], -t))  # the first epoch of the highest accuracy
            found = {k: v for k, v in scores_up_to(trajectories, e).items()}
            found.update({f"early_{k}": v for k, v in scores_up_to(trajectories, peak + 1).items()})
            rows[e].append(({k: detection_quality(v[train], noisy)["auroc"] for k, v in found.items()}, peak))
    scores = list(rows[lengths[0]][0][0])
    print(f"\n{name}, ce at sym0.4, AUROC (mean of seeds {', '.join(map(str, seeds))}):\n")
    print("| epochs | validation peak | " + " | ".join(scores) + " |")
    print("|---" * (len(scores) + 2) + "|")
    for e, found in rows.items():
        mean = {s: statistics.mean(f[0][s] for f in found) for s in scores}
        print(f"| {e} | {', '.join(str(f[1]) for f in found)} | " + " | ".join(f"{mean[s]:.3f}" for s in scores) + " |")


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
