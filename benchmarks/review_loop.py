"""The whole loop, without a person: train on noisy labels, accept the report's K top suggestions
(`noisyrobust review RUN --accept-suggested K`, K = the number of wrong labels the noise rate implies), train
again on the reviewed labels (`data.review_file=RUN/review.csv`), and compare with training on clean labels.

    python benchmarks/review_loop.py                       # the bundled digits, ce at sym0.4, 20 epochs
    python benchmarks/review_loop.py --data mnist --epochs 20   # real MNIST digits (8,000 train)
    python benchmarks/review_loop.py --drop                     # drop the K most suspicious instead
"""
import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf, open_dict

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_mnist import T10K, write_mnist_split  # noqa: E402

from noisyrobust.data.review_file import parse_decisions  # noqa: E402
from noisyrobust.label_issues.table import read_issue_table  # noqa: E402
from noisyrobust.noise import load_noisy_labels  # noqa: E402
from noisyrobust.review import main as review  # noqa: E402
from noisyrobust.run import train  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def run(out: Path, overrides: list) -> dict:
    """One CPU run from the real configs, with its .hydra/config.yaml (what the review reads)."""
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=["trainer=cpu", *overrides])
    with open_dict(cfg):
        cfg.paths.output_dir = str(out)
    summary = train(cfg)
    (out / ".hydra").mkdir(exist_ok=True)
    OmegaConf.save(cfg, out / ".hydra" / "config.yaml")
    return summary


def loop(data: list, tmp: Path, epochs: int, rate: float, seed: int, flag: str) -> dict:
    common = [*data, f"trainer.max_epochs={epochs}", "method=ce", f"seed={seed}"]
    noisy_run = tmp / f"noisy-{seed}"
    before = run(noisy_run, [*common, f"noise=sym{rate}"])
    table = read_issue_table(noisy_run / "label_issues.csv")
    k = int(round(rate * len(table["index"])))
    assert review([str(noisy_run), flag, str(k)]) == 0
    after = run(tmp / f"reviewed-{seed}", [*common, f"noise=sym{rate}", f"data.review_file={noisy_run}/review.csv"])
    clean = run(tmp / f"clean-{seed}", [*common, "noise=clean"])
    labels = load_noisy_labels(noisy_run / "noisy_labels.npz")
    decisions = parse_decisions((noisy_run / "review.csv").read_text(), num_samples=len(labels["clean"]),
                                num_classes=len(labels["transition_matrix"]), where="review.csv")
    rows = table["index"]
    wrong = labels["noisy"][rows] != labels["clean"][rows]
    new = labels["noisy"].copy()
    for i, (decision, label) in decisions.items():
        if decision == "relabel":
            new[i] = label
    kept = np.array([decisions.get(int(i), ("keep",))[0] != "drop" for i in rows])
    fixed = ((new[rows] == labels["clean"][rows]) | ~kept) & wrong  # relabelled right, or dropped
    broken = ((new[rows] != labels["clean"][rows]) | ~kept) & ~wrong  # relabelled wrong, or dropped
    return {"k": k, "wrong": int(wrong.sum()), "fixed": float(fixed.sum() / wrong.sum()),
            "broken": float(broken.sum() / (~wrong).sum()),
            "wrong_after": float(np.mean((new[rows] != labels["clean"][rows])[kept])),
            **{f"{name}_{m}": s[f"test_acc_{m}"] for name, s in (("before", before), ("after", after),
                                                                   ("clean", clean)) for m in ("last", "at_best_val")}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="digits", choices=["digits", "mnist"])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--rate", type=float, default=0.4)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--drop", action="store_true", help="review --drop K instead of --accept-suggested K")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="review-loop-"))
    data = ["data=digits"] if args.data == "digits" else [
        "data=mnist", f"paths.data_dir={write_mnist_split(T10K, tmp / 'data')}", "data.source.download=false"]
    flag = "--drop" if args.drop else "--accept-suggested"
    results = [loop(data, tmp, args.epochs, args.rate, seed, flag) for seed in args.seeds]
    mean = {k: statistics.mean(r[k] for r in results) for k in results[0]}
    print(f"\n{args.data}, ce at sym{args.rate}, {args.epochs} epochs, seeds {args.seeds} (mean): "
          f"{flag} K={mean['k']:.0f} of {mean['wrong']:.0f} wrong labels")
    print(f"wrong labels fixed (relabelled right or dropped) {100 * mean['fixed']:.1f}%, right labels broken "
          f"(relabelled wrong or dropped) {100 * mean['broken']:.1f}%, wrong among the labels trained on "
          f"{100 * mean['wrong_after']:.1f}%")
    print("| training labels | test acc, last epoch | test acc, at best val |\n|---|---|---|")
    for name, what in (("before", f"noisy (sym{args.rate})"), ("after", "reviewed"), ("clean", "clean")):
        print(f"| {what} | {100 * mean[f'{name}_last']:.2f} | {100 * mean[f'{name}_at_best_val']:.2f} |")


if __name__ == "__main__":
    main()
