"""Re-initialization under label noise (Zaidi et al. 2022): clean test accuracy and memorization of the
wrong labels (mem/noisy_fit) over epochs, one curve per re-initialization method of ``experiment=reinit/*``."""
from pathlib import Path

from noisyrobust.figures.runs import load_runs, require
from noisyrobust.figures.style import new_figure, save


def draw(root: Path) -> list:
    runs = [r for r in load_runs(root) if r.cfg("callbacks.reinit.method") is not None]
    require(runs, "runs with the reinit callback", root, "python train.py -m experiment=reinit/digits_mlp")
    fig, (test_ax, mem_ax) = new_figure(2)
    lines = [f"re-initialization on {root}"]
    for run in sorted(runs, key=lambda r: r.cfg("callbacks.reinit.method")):
        method = run.cfg("callbacks.reinit.method")
        test_ax.plot(*run.series("test/acc", x="epoch"), lw=1, label=method)
        mem_ax.plot(*run.series("mem/noisy_fit", x="epoch"), lw=1, label=method)
        s = run.summary
        lines.append(f"  {method:15s} test acc last {s.get('test_acc_last', float('nan')):.3f}, mean of last 10 "
                     f"{s.get('test_acc_mean_last10', float('nan')):.3f}, at best val "
                     f"{s.get('test_acc_at_best_val', float('nan')):.3f}; noisy labels fitted at the end "
                     f"{run.last('mem/noisy_fit') or float('nan'):.3f}")
    test_ax.set(xlabel="epoch", ylabel="clean test accuracy", title="test accuracy")
    mem_ax.set(xlabel="epoch", ylabel="mem/noisy_fit", title="wrong labels memorized")
    test_ax.legend(fontsize=8)
    print("\n".join(lines))
    return [save(fig, Path(root) / "figures" / "reinit.png")]
