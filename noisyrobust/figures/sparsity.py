"""Sparse double descent (He et al., ICML 2022, Fig. 1): train and test accuracy vs sparsity over the levels
of one ``prune=magnitude`` run; test accuracy should dip where the pruned network stops fitting the noisy
labels (train accuracy leaves 100%) and rise again after, before collapsing at extreme sparsity."""
from pathlib import Path

from noisyrobust.figures.runs import load_runs, require
from noisyrobust.figures.style import new_figure, save


def level_rows(root: Path) -> list:
    rows = []
    for run in load_runs(root):
        prune = run.summary.get("prune")
        if prune is None:
            continue
        rows.append({"level": prune["level"], "sparsity": prune["sparsity"], "train": run.last("train/acc"),
                     "test": run.summary.get("test_acc_last"), "distance": prune.get("learning_distance"),
                     "noisy_fit": run.last("mem/noisy_fit")})
    return sorted(rows, key=lambda r: r["level"])


def dip_and_peak(rows: list) -> dict:
    """The double descent's dip and peak: the pruned levels' largest rise in test accuracy, from its lowest
    point (the dip) to the highest level after it (the peak); collapse at the end does not count as a dip."""
    if len(rows) < 3:
        return {}
    test = [r["test"] for r in rows]
    i_max = max(range(1, len(rows)), key=lambda j: test[j] - min(test[1:j + 1]))
    i_min = min(range(1, i_max + 1), key=lambda i: test[i])
    leaves = next((r["sparsity"] for r in rows if (r["train"] or 0) < 0.99), None)
    return {"dense": rows[0]["test"], "dip": (rows[i_min]["sparsity"], rows[i_min]["test"]),
            "peak": (rows[i_max]["sparsity"], rows[i_max]["test"]), "train_leaves_100": leaves}


def draw(root: Path) -> list:
    rows = level_rows(root)
    require(rows, "pruning levels (level_NN/ run directories)", root,
            "python train.py experiment=sparsity/digits_mlp hydra.run.dir=DIR")
    fig, (ax, dist) = new_figure(2)
    x = [100 * r["sparsity"] for r in rows]
    ax.plot(x, [r["train"] for r in rows], "o-", label="train (given labels)")
    ax.plot(x, [r["test"] for r in rows], "s-", label="test (clean)")
    ax.set(xlabel="sparsity %", ylabel="accuracy", title="sparse double descent")
    ax.legend(fontsize=8)
    dist.plot(x, [r["distance"] for r in rows], "o-")
    dist.set(xlabel="sparsity %", ylabel="||w_end - w_rewind||", title="learning distance")
    lines = [f"sparse double descent on {root}: {len(rows)} levels"]
    lines += [f"  level {r['level']:2d} sparsity {100 * r['sparsity']:6.2f}%  train {r['train']:.3f}  "
              f"test {r['test']:.3f}  distance {r['distance']:.2f}" for r in rows]
    shape = dip_and_peak(rows)
    if shape:
        lines.append(f"  dense test {shape['dense']:.3f}; dip {shape['dip'][1]:.3f} at {100 * shape['dip'][0]:.1f}% "
                     f"sparsity; peak after it {shape['peak'][1]:.3f} at {100 * shape['peak'][0]:.1f}%; train "
                     f"accuracy first below 99% at "
                     + (f"{100 * shape['train_leaves_100']:.1f}%" if shape["train_leaves_100"] is not None else "none"))
    print("\n".join(lines))
    return [save(fig, Path(root) / "figures" / "sparsity.png")]
