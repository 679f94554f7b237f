"""Learning to memorize (Badger 2022): training accuracy and held-out accuracy over epochs for plain CE and
the anti-generalization objective (``method=memorize``), one curve per share of real signal in the inputs
(``data.input_signal``), from ``experiment=badger/*``."""
from pathlib import Path

from noisyrobust.figures.runs import load_runs, require
from noisyrobust.figures.style import new_figure, save

FITTED = 0.5  # "epochs to fit": the first epoch with train accuracy (on the given labels) at or above this


def signal_of(run) -> float:
    """The share of the real image in the inputs: 1 without input corruption, 0 for pure Gaussian inputs."""
    if run.cfg("data.inputs", "none") == "none":
        return 1.0
    return float(run.cfg("data.input_signal", 0.0)) if run.cfg("data.inputs") == "gaussian" else float("nan")


def epochs_to(series: tuple, level: float):
    """The first epoch whose value is at or above ``level`` (None if never)."""
    return next((int(e) for e, v in zip(*series) if v >= level), None)


def draw(root: Path) -> list:
    runs = [r for r in load_runs(root) if r.summary.get("method") in ("ce", "memorize") and r.series("val/acc", x="epoch")[1]]
    require([r for r in runs if r.summary["method"] == "memorize"], "method=memorize runs with a validation split",
            root, "python train.py -m experiment=badger/digits_mlp")
    fig, (train_ax, held_ax) = new_figure(2)
    lines = [f"learning to memorize on {root} (epochs to fit: first epoch with train accuracy >= {FITTED})"]
    signals = sorted({signal_of(r) for r in runs}, reverse=True)
    for run in sorted(runs, key=lambda r: (r.summary["method"], -signal_of(r))):
        method, f = run.summary["method"], signal_of(run)
        train, held = run.series("train/acc", x="epoch"), run.series("val/acc", x="epoch")
        look = {"ls": "-" if method == "memorize" else ":", "color": f"C{signals.index(f) % 10}", "lw": 1}
        train_ax.plot(*train, **look, label=f"{method}, f={f:g}")
        held_ax.plot(*held, **look, label=f"{method}, f={f:g}")
        fit = epochs_to(train, FITTED)
        lines.append(f"  {method:9s} f={f:<5g} train acc last {train[1][-1]:.3f} (max {max(train[1]):.3f}), "
                     f"epochs to fit {fit if fit is not None else 'never'}; held-out acc last {held[1][-1]:.3f} "
                     f"(max {max(held[1]):.3f}); test acc last {run.summary.get('test_acc_last', float('nan')):.3f}")
    train_ax.set(xlabel="epoch", ylabel="train accuracy (given labels)", title="fitting the training set")
    held_ax.set(xlabel="epoch", ylabel="held-out accuracy", title="held-out (validation split)")
    train_ax.legend(fontsize=7)
    print("\n".join(lines))
    return [save(fig, Path(root) / "figures" / "memorize.png")]
