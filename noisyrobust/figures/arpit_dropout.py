"""Arpit et al. 2017, Fig. 9/10 for dropout: after a fixed budget, how much of the wrong labels each dropout
rate lets the network fit (train accuracy on the noisy-labelled samples, measured without dropout), the
fit of the clean-labelled samples, and the clean test accuracy; one line per noise rate. From
``experiment=arpit/dropout``."""
from collections import defaultdict
from pathlib import Path
from statistics import mean

from noisyrobust.figures.runs import load_runs, require
from noisyrobust.figures.style import new_figure, save

PANELS = (("noisy", "train acc. on the wrong labels"), ("clean", "train acc. on the clean labels"),
          ("test10", "test accuracy, mean of last 10 epochs"))


def cells(root: Path) -> dict:
    """(noise rate, dropout) -> {"noisy", "clean", "test", "test10": one value per seed (None: no such
    samples)}: the last epoch's evaluation-mode fit of the training set (training_set_fit in summary.json), its
    test accuracy, and the mean test accuracy of the last 10 epochs (steadier under a constant learning rate)."""
    out = defaultdict(lambda: {"noisy": [], "clean": [], "test": [], "test10": []})
    for run in load_runs(root):
        fits = (run.summary.get("training_set_fit") or {}).get("epochs") or {}
        if not fits or run.cfg("model.dropout") is None:
            continue
        last = fits[max(fits, key=int)]
        cell = out[(run.noise_rate, float(run.cfg("model.dropout")))]
        cell["noisy"].append(last["noisy"])
        cell["clean"].append(last["clean"])
        cell["test"].append(run.summary.get("test_acc_last"))
        cell["test10"].append(run.summary.get("test_acc_mean_last10"))
    return dict(out)


def average(values: list):
    values = [v for v in values if v is not None]
    return mean(values) if values else None


def draw(root: Path) -> list:
    table = cells(root)
    require(table, "runs with a model.dropout and a training-set fit (callbacks training_set_fit)", root,
            "python train.py -m experiment=arpit/dropout hydra.sweep.dir=DIR")
    fig, axes = new_figure(3)
    lines = [f"Arpit et al. 2017, dropout vs memorization on {root} (last epoch; train fit without dropout)"]
    for i, rate in enumerate(sorted({r for r, _ in table})):
        drops = sorted(d for r, d in table if r == rate)
        for ax, (key, _) in zip(axes, PANELS):
            pts = [(d, average(table[(rate, d)][key])) for d in drops]
            pts = [p for p in pts if p[1] is not None]
            if pts:
                ax.plot(*zip(*pts), "o-", color=f"C{i}", label=f"noise {rate:g}")
        for d in drops:
            c = {k: average(v) for k, v in table[(rate, d)].items()}
            pct = {k: "-" if v is None else f"{100 * v:.1f}%" for k, v in c.items()}
            lines.append(f"  noise {rate:.2f} dropout {d:.2f}: fit of wrong labels {pct['noisy']}, of clean labels "
                         f"{pct['clean']}, test acc {pct['test']} (mean of last 10 epochs {pct['test10']})")
    for ax, (_, title) in zip(axes, PANELS):
        ax.set(xlabel="dropout rate", ylabel="accuracy", ylim=(0, 1.02), title=title)
        ax.legend(fontsize=8)
    print("\n".join(lines))
    return [save(fig, Path(root) / "figures" / "arpit_dropout.png")]
