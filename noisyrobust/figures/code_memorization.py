"""Rabin et al. 2022, "Memorization and Generalization in Neural Code Intelligence Models": per token model,
training accuracy (on the given, partly random labels) and clean test accuracy over epochs for each noise rate;
the generalization gap (train - test accuracy at the last epoch) against the rate; the per-sample training
loss of clean vs noisy samples late in training; and the robust methods beside CE at 50% noise. From runs of
``experiment=code_memorization/*`` under one folder."""
from pathlib import Path

import numpy as np

from noisyrobust.figures.runs import Run, load_runs, require
from noisyrobust.figures.style import new_figure, save

FITTED = 0.95  # "epochs to fit": the first epoch with train accuracy (given labels) at or above this
LATE_EPOCHS = 5  # "late in training": the per-sample loss averaged over the last epochs recorded


def model_name(run: Run) -> str:
    return str(run.cfg("model._target_", "?")).rsplit(".", 1)[-1]


def is_ce(run: Run) -> bool:
    """Plain cross-entropy (``method=ce``), also where the run was composed without Hydra's choices."""
    return run.summary.get("method") == "ce" or (str(run.cfg("method._target_", "")).endswith(".Standard") and
                                                 str(run.cfg("method.loss._target_", "")).endswith(".CrossEntropy"))


def method_name(run: Run) -> str:
    return "ce" if is_ce(run) else str(run.summary.get("method", "?"))


def epochs_to(series: tuple, level: float):
    """The first epoch whose value is at or above ``level`` (None if never)."""
    return next((int(e) for e, v in zip(*series) if v >= level), None)


def late_losses(run: Run):
    """(losses of the clean-labelled, of the noisy-labelled training samples), each the mean over the last
    ``LATE_EPOCHS`` epochs of ``per_sample.npz``; None without the file."""
    path, labels = run.path / "per_sample.npz", run.path / "noisy_labels.npz"
    if not path.is_file() or not labels.is_file():
        return None
    with np.load(path) as f, np.load(labels) as lab:
        loss, noisy = f["loss"][-LATE_EPOCHS:], lab["clean"] != lab["noisy"]
    seen = np.isfinite(loss).all(0)  # the training split (validation samples are never trained on)
    mean = np.where(seen, loss, 0).mean(0)
    return mean[seen & ~noisy], mean[seen & noisy]


def run_line(run: Run) -> str:
    train, test = run.series("train/acc", x="epoch"), run.series("test/acc", x="epoch")
    fit = epochs_to(train, FITTED)
    return (f"  {model_name(run):16s} {method_name(run):10s} rate {run.noise_rate:.2f}: "
            f"train acc last {train[1][-1]:.3f} (best {max(train[1]):.3f}), test acc last {test[1][-1]:.3f} "
            f"(best {max(test[1]):.3f}); epochs to fit {fit if fit is not None else 'never'} of {len(train[1])}")


def draw(root: Path) -> list:
    runs = [r for r in load_runs(root) if r.summary.get("data") == "python_names" and r.series("test/acc", x="epoch")[1]
            and r.series("train/acc", x="epoch")[1]]
    ce = [r for r in runs if is_ce(r)]
    require(ce, "code memorization runs (data=python_names, method=ce)", root,
            "python train.py -m experiment=code_memorization/bag_of_tokens hydra.sweep.dir=DIR")
    models = sorted({model_name(r) for r in ce})
    rates = sorted({r.noise_rate for r in ce})
    out = Path(root) / "figures"
    lines = [f"Rabin et al. 2022 on {root} (epochs to fit: first epoch with train accuracy >= {FITTED}; "
             f"corpus: {ce[0].summary.get('corpus', {}).get('samples', '?')} definitions, "
             f"classes {ce[0].summary.get('corpus', {}).get('classes', '?')})"]
    fig, axes = new_figure(len(models) + 2)
    for ax, model in zip(axes, models):
        for r in sorted((r for r in ce if model_name(r) == model), key=lambda r: r.noise_rate):
            color = f"C{rates.index(r.noise_rate) % 10}"
            ax.plot(*r.series("train/acc", x="epoch"), color=color, lw=1, label=f"{100 * r.noise_rate:g}% train")
            ax.plot(*r.series("test/acc", x="epoch"), color=color, lw=1, ls=":", label=f"{100 * r.noise_rate:g}% test")
            lines.append(run_line(r))
        ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02), title=f"{model}: train (—) / test (···)")
        ax.legend(fontsize=6, ncol=2)
    gap_ax, loss_ax = axes[len(models)], axes[len(models) + 1]
    for model in models:
        mine = sorted((r for r in ce if model_name(r) == model), key=lambda r: r.noise_rate)
        gaps = [r.series("train/acc", x="epoch")[1][-1] - r.series("test/acc", x="epoch")[1][-1] for r in mine]
        gap_ax.plot([100 * r.noise_rate for r in mine], gaps, "o-", label=model)
        lines.append(f"  {model}: generalization gap (train - test, last epoch) " +
                     ", ".join(f"{100 * r.noise_rate:g}%: {g:+.3f}" for r, g in zip(mine, gaps)))
    gap_ax.set(xlabel="label noise %", ylabel="train acc - test acc", title="generalization gap")
    gap_ax.legend(fontsize=7)
    middle = [r for r in ce if 0 < r.noise_rate < 1]
    for i, run in enumerate(sorted(middle, key=lambda r: (abs(r.noise_rate - 0.5), model_name(r)))[:len(models)]):
        losses = late_losses(run)
        if losses is None:
            lines.append(f"  {run.path}: no per_sample.npz (diagnostics.keep_trajectories=true): loss panel left out")
            continue
        bins = np.logspace(-4, 1.5, 40)
        for part, name, ls in ((losses[0], "clean", "-"), (losses[1], "noisy", "--")):
            loss_ax.hist(np.clip(part, 1e-4, None), bins=bins, histtype="step", ls=ls, color=f"C{i}",
                         label=f"{model_name(run)} {100 * run.noise_rate:g}%: {name}")
        lines.append(f"  {model_name(run)} at {100 * run.noise_rate:g}%: late per-sample loss median clean "
                     f"{np.median(losses[0]):.3g}, noisy {np.median(losses[1]):.3g}")
    loss_ax.set(xscale="log", xlabel=f"training loss (mean of the last {LATE_EPOCHS} epochs)", ylabel="samples",
                title="clean vs noisy samples, late in training")
    loss_ax.legend(fontsize=6)
    paths = [save(fig, out / "code_memorization.png")]
    robust = sorted((r for r in runs if r.noise_rate == 0.5), key=lambda r: (model_name(r), method_name(r)))
    if len({method_name(r) for r in robust}) > 1:
        paths.append(draw_methods(robust, out / "code_memorization_methods.png"))
        lines.append("  at 50% noise, test accuracy last / best epoch:")
        lines += [f"    {model_name(r):16s} {method_name(r):12s} {r.summary.get('test_acc_last', float('nan')):.3f} / "
                  f"{r.summary.get('test_acc_best_test_selected', float('nan')):.3f}" for r in robust]
    print("\n".join(lines))
    return paths


def draw_methods(runs: list, path: Path) -> Path:
    fig, (ax,) = new_figure(1, width=max(4.2, 0.7 * len(runs)))
    x = np.arange(len(runs))
    ax.bar(x - 0.2, [r.summary.get("test_acc_last", np.nan) for r in runs], 0.4, label="last epoch")
    ax.bar(x + 0.2, [r.summary.get("test_acc_best_test_selected", np.nan) for r in runs], 0.4, label="best epoch")
    ax.set_xticks(x, [f"{method_name(r)}\n{model_name(r)}" for r in runs], fontsize=6)
    ax.set(ylabel="clean test accuracy", ylim=(0, 1), title="robust methods at 50% label noise")
    ax.legend(fontsize=7)
    return save(fig, path)
