"""Susceptibility (Forouzesh et al., ICLR 2023): zeta over epochs for each run with the callback, and the
runs placed in the paper's regions of (final training accuracy, final zeta), split at the medians over the
runs, with their clean test accuracy: region 1 (high accuracy, low susceptibility) should test best."""
import statistics
from pathlib import Path

from noisyrobust.figures.runs import load_runs, require
from noisyrobust.figures.style import new_figure, save
from noisyrobust.memorization.susceptibility import susceptibility_region


def draw(root: Path) -> list:
    runs = [r for r in load_runs(root) if r.series("mem/susceptibility", x="epoch")[0]]
    require(runs, "runs with the susceptibility callback", root,
            "python train.py -m experiment=susceptibility/digits_mlp")
    fig, (curve, regions) = new_figure(2)
    points = []
    for run in runs:
        epochs, zeta = run.series("mem/susceptibility", x="epoch")
        name = run.path.name
        curve.plot(epochs, zeta, lw=1, label=name[:30])
        points.append((name, run.last("train/acc"), zeta[-1], run.summary.get("test_acc_last")))
    acc_t = statistics.median(p[1] for p in points)
    zeta_t = statistics.median(p[2] for p in points)
    lines = [f"susceptibility on {root}: regions split at train acc {acc_t:.3f}, zeta {zeta_t:.4f}"]
    by_region = {}
    for name, acc, zeta, test in points:
        region = susceptibility_region(acc, zeta, acc_threshold=acc_t, zeta_threshold=zeta_t)
        by_region.setdefault(region, []).append(test)
        sc = regions.scatter(acc, zeta, c=[test], vmin=0, vmax=1, cmap="viridis")
        regions.annotate(f"R{region} {100 * test:.0f}%", (acc, zeta), fontsize=7)
        lines.append(f"  {name}: train acc {acc:.3f}, zeta {zeta:.4f}, region {region}, test acc {test:.3f}")
    for region, tests in sorted(by_region.items()):
        lines.append(f"  region {region}: {len(tests)} runs, mean test acc {statistics.mean(tests):.3f}")
    regions.axvline(acc_t, color="grey", ls="--")
    regions.axhline(zeta_t, color="grey", ls="--")
    fig.colorbar(sc, ax=regions, label="test accuracy")
    curve.set(xlabel="epoch", ylabel="susceptibility zeta", title="mem/susceptibility")
    curve.legend(fontsize=6)
    regions.set(xlabel="final train accuracy (given labels)", ylabel="final zeta", title="regions")
    print("\n".join(lines))
    return [save(fig, Path(root) / "figures" / "susceptibility.png")]
