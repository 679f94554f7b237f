"""Re-initialization under label noise (Zaidi et al. 2022): clean test accuracy and memorization of the
wrong labels (mem/noisy_fit) over epochs, one curve per re-initialization method of ``experiment=reinit/*``,
the generation boundaries (where the weights are re-initialized) dotted."""
from pathlib import Path

from noisyrobust.figures.runs import load_runs, require
from noisyrobust.figures.style import new_figure, save


def generation_boundaries(runs: list) -> list:
    """Where the re-initializing runs re-initialize, on the epoch axis: the callback acts at the start of epoch
    g * generation (g = 1, 2, ...), between the evaluations of epochs g * generation - 1 and g * generation."""
    epochs = set()
    for run in runs:
        generation, max_epochs = run.cfg("callbacks.reinit.generation"), run.cfg("trainer.max_epochs")
        if run.cfg("callbacks.reinit.method") != "none" and isinstance(generation, int) and isinstance(max_epochs, int):
            epochs.update(range(generation, max_epochs, generation))
    return [e - 0.5 for e in sorted(epochs)]


def draw(root: Path) -> list:
    runs = [r for r in load_runs(root) if r.cfg("callbacks.reinit.method") is not None]
    require(runs, "runs with the reinit callback", root, "python train.py -m experiment=reinit/digits_mlp")
    fig, (test_ax, mem_ax) = new_figure(2)
    for ax in (test_ax, mem_ax):
        for i, x in enumerate(generation_boundaries(runs)):
            ax.axvline(x, color="grey", lw=0.8, ls=":", label="re-initialization" if i == 0 else None)
    lines = [f"re-initialization on {root}"]
    for run in sorted(runs, key=lambda r: r.cfg("callbacks.reinit.method")):
        method = run.cfg("callbacks.reinit.method")
        test_ax.plot(*run.series("test/acc", x="epoch"), lw=1, label=method)
        mem_ax.plot(*run.series("mem/noisy_fit", x="epoch"), lw=1, label=method)
        s = run.summary
        lines.append(f"  {method:15s} test acc last {s.get('test_acc_last', float('nan')):.3f}, mean of last "
                     f"{s.get('test_acc_mean_epochs', 10)} "
                     f"{s.get('test_acc_mean_last10', float('nan')):.3f}, at best val "
                     f"{s.get('test_acc_at_best_val', float('nan')):.3f}; noisy labels fitted at the end "
                     f"{run.last('mem/noisy_fit') or float('nan'):.3f}")
    test_ax.set(xlabel="epoch", ylabel="clean test accuracy", title="test accuracy")
    mem_ax.set(xlabel="epoch", ylabel="mem/noisy_fit", title="wrong labels memorized")
    test_ax.legend(fontsize=8)
    print("\n".join(lines))
    return [save(fig, Path(root) / "figures" / "reinit.png")]
