"""Arpit et al. 2017, Sec. 4 (capacity, time to convergence): epochs to fit the training set vs the share of
random labels, one line per MLP width, and the test accuracy there. From ``experiment=arpit/fit_time``."""
from collections import defaultdict
from pathlib import Path
from statistics import mean

from noisyrobust.figures.runs import Run, load_runs, require
from noisyrobust.figures.style import new_figure, save


def width(run: Run) -> str:
    """The MLP's hidden widths, ``512`` or ``512x512``."""
    hidden = run.cfg("model.hidden")
    return "x".join(str(h) for h in hidden) if isinstance(hidden, list) else str(hidden)


def epochs_to_fit(run: Run):
    """Epochs trained until 100% train accuracy on the given labels (fit/epoch + 1); None: never fitted."""
    epoch = (run.summary.get("fit") or {}).get("epoch")
    return None if epoch is None else epoch + 1


def cells(root: Path) -> dict:
    """(width, noise rate) -> {"fit": epochs to fit of each seed (None: not fitted), "budget" (epochs trained),
    "test" (accuracy), "train" (the last epoch's train accuracy on the given labels)}."""
    out = defaultdict(lambda: {"fit": [], "budget": [], "test": [], "train": []})
    for run in load_runs(root):
        if "fit" not in run.summary or run.cfg("model.hidden") is None:
            continue
        cell = out[(width(run), run.noise_rate)]
        cell["fit"].append(epochs_to_fit(run))
        cell["budget"].append(run.summary.get("epochs"))
        cell["test"].append(run.summary.get("test_acc_last"))
        cell["train"].append(run.last("train/acc"))
    return dict(out)


def draw(root: Path) -> list:
    table = cells(root)
    require(table, "MLP runs with a fit record (callbacks.fit_stop)", root,
            "python train.py -m experiment=arpit/fit_time hydra.sweep.dir=DIR")
    fig, (ax, acc) = new_figure(2)
    lines = [f"Arpit et al. 2017, epochs to fit vs noise and width on {root}"]
    widths = sorted({w for w, _ in table}, key=lambda w: [int(x) for x in w.split("x")] if w[0].isdigit() else [w])
    for i, w in enumerate(widths):
        rates = sorted(r for v, r in table if v == w)
        fitted = [(r, mean(e for e in table[(w, r)]["fit"] if e is not None)) for r in rates
                  if any(e is not None for e in table[(w, r)]["fit"])]
        unfitted = [(r, max(table[(w, r)]["budget"])) for r in rates if None in table[(w, r)]["fit"]]
        if fitted:
            ax.plot(*zip(*fitted), "o-", color=f"C{i}", label=f"width {w}")
        if unfitted:  # at least one seed never reached 100% within the budget
            ax.plot(*zip(*unfitted), "x", color=f"C{i}", ms=9)
        acc.plot(rates, [mean(table[(w, r)]["test"]) for r in rates], "o-", color=f"C{i}", label=f"width {w}")
        for r in rates:
            c = table[(w, r)]
            shown = ", ".join(str(e) if e is not None else f"not fitted in {b} (train acc {100 * (a or 0):.1f}%)"
                              for e, b, a in zip(c["fit"], c["budget"], c["train"]))
            lines.append(f"  width {w:>8s} noise {r:.2f}: epochs to fit {shown}; "
                         f"test acc {100 * mean(table[(w, r)]['test']):.1f}%")
    ax.set(xlabel="share of labels redrawn at random", ylabel="epochs to 100% train accuracy",
           title="time to fit (x: not fitted in budget)")
    ax.legend(fontsize=8)
    acc.set(xlabel="share of labels redrawn at random", ylabel="test accuracy (clean)", ylim=(0, 1),
            title="generalization")
    acc.legend(fontsize=8)
    print("\n".join(lines))
    return [save(fig, Path(root) / "figures" / "arpit_fit_time.png")]
