"""Arpit et al. 2017, Fig. 1: per-example misclassification rate after the first epoch over many seeds,
sorted, for real data, random labels and random inputs, each beside its binomial reference (equally hard
examples). From the runs of ``experiment=arpit/first_epoch`` under one folder."""
from collections import defaultdict
from pathlib import Path

import numpy as np

from noisyrobust.errors import UserError
from noisyrobust.figures.runs import Run, load_runs, require
from noisyrobust.figures.style import new_figure, save
from noisyrobust.memorization.example_difficulty import (binomial_ks_distance, binomial_reference, dispersion,
                                                         misclassification_rates)
from noisyrobust.memorization.training_set_fit import read_training_set_fit

KINDS = ("real data", "random labels", "random inputs", "random inputs + labels")
COMMAND = "python train.py -m experiment=arpit/first_epoch hydra.sweep.dir=DIR"


def data_kind(run: Run) -> str:
    """Real data, random labels (every label redrawn: noise rate 1), random inputs (any data.inputs), both;
    a run with partly corrupted labels is its own kind."""
    rate = run.noise_rate
    labels = "" if rate == 0 else "labels" if rate == 1 else f"labels p={rate:g}"
    inputs = "inputs" if (run.cfg("data.inputs", "none") or "none") != "none" else ""
    return "real data" if not (labels or inputs) else "random " + " + ".join(x for x in (inputs, labels) if x)


def kind_rows(root: Path) -> dict:
    """kind -> (S, N) bool: every seed's per-example correctness after epoch 0, on the same examples and
    labels (refused otherwise: the rates would mix different data)."""
    runs = defaultdict(list)
    for run in load_runs(root):
        found = read_training_set_fit(run.path, 0)
        if found is not None:
            runs[data_kind(run)].append((run, found))
    require(runs, "runs with training_set_fit.npz after the first epoch", root, COMMAND)
    out = {}
    for kind, members in runs.items():
        checksums = {(r.summary["noise"].get("checksum"), (r.summary.get("inputs") or {}).get("checksum"))
                     for r, _ in members}
        if len(checksums) > 1:
            raise UserError(f"the {kind} runs under {root} were trained on different labels or inputs (the noise "
                            "followed each run's seed); the experiment fixes them with noise.seed=0")
        if len({tuple(f[0]) for _, f in members}) > 1:
            raise UserError(f"the {kind} runs under {root} hold different training examples (another split)")
        if len(members) < 2:
            raise UserError(f"{root} holds one {kind} run; the per-example rates need several seeds: {COMMAND}")
        out[kind] = np.stack([f[1] for _, f in members])
    return out


def statistics(correct: np.ndarray) -> dict:
    seeds, n = correct.shape
    rates = misclassification_rates(correct)
    p = float(rates.mean())
    return {"seeds": seeds, "examples": n, "mean": p, "std": float(rates.std()),
            "binomial_std": float(np.sqrt(p * (1 - p) / seeds)), "dispersion": dispersion(rates, seeds),
            "ks": binomial_ks_distance(rates, seeds, p), "rates": np.sort(rates),
            "reference": binomial_reference(n, seeds, p)}


def draw(root: Path) -> list:
    rows = kind_rows(root)
    fig, (ax,) = new_figure(1, width=8.0, height=4.0)
    lines = [f"Arpit et al. 2017 Fig. 1 on {root}: per-example misclassification after epoch 1"]
    order = [k for k in KINDS if k in rows] + sorted(k for k in rows if k not in KINDS)
    for i, kind in enumerate(order):
        s = statistics(rows[kind])
        x = np.arange(s["examples"])
        ax.plot(x, s["rates"], color=f"C{i}", label=kind)
        ax.plot(x, s["reference"], color=f"C{i}", ls="--", lw=1, label=f"binomial ({kind})")
        lines.append(f"  {kind:23s} {s['seeds']} seeds x {s['examples']} examples: mean {s['mean']:.3f}, std "
                     f"{s['std']:.3f} (binomial {s['binomial_std']:.3f}), dispersion {s['dispersion']:.2f}, "
                     f"KS to binomial {s['ks']:.3f}")
    ax.set(xlabel="example (sorted)", ylabel="misclassification rate over seeds", ylim=(-0.02, 1.02),
           title="after the first epoch")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the curves, not over them
    print("\n".join(lines))
    return [save(fig, Path(root) / "figures" / "arpit_first_epoch.png")]
