"""The slingshot mechanism (Thilak et al. 2022, Fig. 1): last-layer weight norm and training loss vs step for
each run of ``experiment=slingshot/*`` (Adam; controls SGD and large-eps Adam), the detected cycles marked."""
from pathlib import Path

from noisyrobust.figures.runs import load_runs, require
from noisyrobust.figures.style import new_figure, save


def run_label(run) -> str:
    target = str(run.cfg("optimizer._target_", "?")).rsplit(".", 1)[-1]
    eps = run.cfg("optimizer.eps")
    return f"{target} lr {run.cfg('optimizer.lr')}" + (f" eps {eps:g}" if eps is not None else "")


def draw(root: Path) -> list:
    runs = [r for r in load_runs(root) if r.series("train/last_layer_norm")[0]]
    require(runs, "runs with the slingshot monitor", root, "python train.py experiment=slingshot/adam "
            "hydra.run.dir=DIR/adam  (and slingshot/sgd, slingshot/adam_eps)")
    fig, (norm_ax, loss_ax) = new_figure(2, width=6)
    lines = [f"slingshot on {root}"]
    for run in runs:
        label = run_label(run)
        steps, norms = run.series("train/last_layer_norm")
        _, losses = run.series("train/loss_step")
        line, = norm_ax.plot(steps, norms, lw=1, label=label)
        loss_ax.plot(steps[:len(losses)], losses, lw=0.8, color=line.get_color(), label=label)
        events = run.summary.get("slingshot", {}).get("event_steps", [])
        for s in events:
            loss_ax.axvline(s, color=line.get_color(), ls=":", lw=0.8)
        lines.append(f"  {label:28s} slingshot cycles {len(events)} at steps {events}; last-layer norm "
                     f"{norms[0]:.2f} -> {norms[-1]:.2f}; final loss {losses[-1]:.2e}")
    norm_ax.set(xlabel="step", ylabel="||W_last||_F", yscale="log", title="last-layer norm")
    loss_ax.set(xlabel="step", ylabel="training loss", yscale="log", title="training loss (cycles dotted)")
    norm_ax.legend(fontsize=8)
    print("\n".join(lines))
    return [save(fig, Path(root) / "figures" / "slingshot.png")]
