"""Zhang et al. 2017, "Understanding deep learning requires rethinking generalization", Fig. 1 and Table 1:
(a) training loss vs steps per corruption kind, (b) steps to fit vs label corruption, (c) test error vs label
corruption; and the explicit-regularization table. From runs of ``experiment=zhang/*`` under one folder."""
from pathlib import Path

from noisyrobust.figures.runs import Run, load_runs, require
from noisyrobust.figures.style import new_figure, save

KINDS = ("true labels", "random labels", "shuffled pixels", "random pixels", "gaussian")


def corruption(run: Run) -> str:
    """The run's kind in Fig. 1a: its input corruption, else true / random / partially corrupted labels."""
    inputs = run.cfg("data.inputs", "none") or "none"
    if inputs != "none":
        return inputs.replace("_", " ")
    rate = run.noise_rate
    return "true labels" if rate == 0 else "random labels" if rate == 1 else f"labels p={rate:g}"


def is_regularization_run(run: Run) -> bool:
    """Table 1 runs train a fixed budget; the Fig. 1 runs stop where the training set is fitted."""
    return run.cfg("callbacks.fit_stop.stop") is False


def table_rows(runs: list) -> list:
    rows = []
    for r in runs:
        rows.append({"labels": "random" if r.noise_rate == 1 else "true" if r.noise_rate == 0 else f"p={r.noise_rate:g}",
                     "inputs": r.cfg("data.inputs", "none"), "random crop": "yes" if r.cfg("data.augment") else "no",
                     "weight decay": "yes" if float(r.cfg("optimizer.weight_decay", 0) or 0) > 0 else "no",
                     "dropout": f"{float(r.cfg('model.dropout', 0) or 0):g}",
                     "train %": 100 * (r.last("train/acc") or float("nan")),
                     "test %": 100 * r.summary.get("test_acc_last", float("nan"))})
    return sorted(rows, key=lambda d: (d["labels"], d["random crop"], d["weight decay"], d["dropout"]))


def draw(root: Path) -> list:
    runs = load_runs(root)
    fig1 = [r for r in runs if not is_regularization_run(r)]
    require(fig1, "Zhang et al. runs (Fig. 1)", root, "python train.py -m experiment=zhang/mlp_labels "
            "hydra.sweep.dir=DIR  (and experiment=zhang/mlp_inputs)")
    out = Path(root) / "figures"
    fig, (a, b, c) = new_figure(3)
    lines = ["Zhang et al. 2017 on " + str(root)]
    by_kind = {corruption(r): r for r in fig1}
    for kind in [k for k in KINDS if k in by_kind]:
        run = by_kind[kind]
        steps, losses = run.series("train/loss_step")
        a.plot(steps, losses, label=kind, lw=1)
        fit = run.summary.get("fit", {}).get("step")
        lines.append(f"  {kind:15s} steps to fit {fit if fit is not None else 'not fitted'}; "
                     f"test acc {100 * run.summary.get('test_acc_last', float('nan')):.1f}%")
    a.set(xlabel="step", ylabel="training loss", yscale="log", title="(a) learning curves")
    a.legend(fontsize=8)
    label_runs = sorted((r for r in fig1 if (r.cfg("data.inputs", "none") or "none") == "none"), key=lambda r: r.noise_rate)
    rates = [r.noise_rate for r in label_runs]
    fitted = [(p, r.summary["fit"]["step"]) for p, r in zip(rates, label_runs) if r.summary.get("fit", {}).get("step")]
    unfitted = [(p, r.summary.get("epochs", 0)) for p, r in zip(rates, label_runs)
                if not r.summary.get("fit", {}).get("step")]
    if fitted:
        b.plot(*zip(*fitted), "o-", label="fitted")
    if unfitted:  # never reached 100%: drawn at its last step, marked apart
        steps_per_epoch = fitted[0][1] / max(1, next(r for r in label_runs if r.summary.get("fit", {}).get("step"))
                                              .summary["fit"]["epoch"] + 1) if fitted else 1
        b.plot([p for p, _ in unfitted], [e * steps_per_epoch for _, e in unfitted], "x", color="red",
               label="not fitted (budget)")
    b.set(xlabel="label corruption", ylabel="steps to 100% train accuracy", title="(b) convergence slowdown")
    b.legend(fontsize=8)
    c.plot(rates, [1 - r.summary.get("test_acc_last", float("nan")) for r in label_runs], "o-")
    c.set(xlabel="label corruption", ylabel="test error", ylim=(0, 1), title="(c) generalization error growth")
    for p, r in zip(rates, label_runs):
        lines.append(f"  label corruption {p:.1f}: steps to fit {r.summary.get('fit', {}).get('step')}, "
                     f"test error {1 - r.summary.get('test_acc_last', float('nan')):.3f}")
    paths = [save(fig, out / "zhang.png")]
    rows = table_rows([r for r in runs if is_regularization_run(r)])
    if rows:
        paths.append(draw_table(rows, out / "zhang_regularization.png"))
        cols = list(rows[0])
        lines.append("  " + " | ".join(cols))
        lines += ["  " + " | ".join(f"{v:.2f}" if isinstance(v, float) else str(v) for v in row.values()) for row in rows]
    print("\n".join(lines))
    return paths


def draw_table(rows: list, path: Path) -> Path:
    fig, (ax,) = new_figure(1, width=7, height=0.5 + 0.3 * len(rows))
    ax.axis("off")
    cells = [[f"{v:.2f}" if isinstance(v, float) else str(v) for v in row.values()] for row in rows]
    ax.table(cellText=cells, colLabels=list(rows[0]), loc="center")
    ax.set_title("explicit regularization (Table 1)")
    return save(fig, path)
