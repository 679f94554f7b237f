"""The label-issue plots of a run, as PNG files (matplotlib, no display needed)."""
import io
from pathlib import Path
from typing import Dict, Optional

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from sklearn.metrics import precision_recall_curve, roc_curve  # noqa: E402

from noisyrobust.files import atomic_write  # noqa: E402

MEMORIZATION_KEYS = ("mem/noisy_fit", "mem/noisy_true", "mem/clean_fit", "test/acc")


def save(fig, path: Path) -> Path:
    """Render ``fig`` to PNG in memory, then write it atomically: no half-written plot."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    with atomic_write(path) as f:
        f.write(buffer.getvalue())
    return path


def detection_curves(table: Dict[str, np.ndarray], scores, path: Path) -> Path:
    """ROC and precision-recall curves of every score against the known wrong labels; the legends give each
    score's AUROC and average precision (as the end-of-run table does)."""
    from noisyrobust.label_issues.detection import detection_quality

    known = table["is_noisy"] >= 0
    fig, (roc_ax, pr_ax) = plt.subplots(1, 2, figsize=(11, 4.5))
    for name in scores:
        ok = known & ~np.isnan(table[name])
        y, s = table["is_noisy"][ok] == 1, table[name][ok]
        quality = detection_quality(s, y)
        fpr, tpr, _ = roc_curve(y, s)
        roc_ax.plot(fpr, tpr, label=f"{name} (AUROC {quality['auroc']:.3f})")
        precision, recall, _ = precision_recall_curve(y, s)
        pr_ax.plot(recall, precision, label=f"{name} (AP {quality['ap']:.3f})")
    roc_ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    pr_ax.axhline((table["is_noisy"][known] == 1).mean(), color="grey", lw=0.8, ls="--", label="chance")
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC: finding the wrong labels")
    pr_ax.set(xlabel="recall", ylabel="precision", title="precision-recall")
    roc_ax.legend(fontsize=8)
    pr_ax.legend(fontsize=8)
    return save(fig, path)


def score_histograms(table: Dict[str, np.ndarray], scores, path: Path) -> Path:
    """Each score's histogram for clean vs wrong labels (one histogram when the noise is unknown)."""
    cols = min(4, len(scores))
    rows = -(-len(scores) // cols)
    # constrained layout keeps the suptitle above the panel titles
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.9 * rows + 0.4), squeeze=False, layout="constrained")
    for ax, name in zip(axes.flat, scores):
        values, noisy = table[name], table["is_noisy"]
        ok = ~np.isnan(values)
        bins = np.histogram_bin_edges(values[ok], bins=40)
        if (noisy[ok] >= 0).any():
            ax.hist(values[ok & (noisy == 0)], bins=bins, alpha=0.6, label="clean")
            ax.hist(values[ok & (noisy == 1)], bins=bins, alpha=0.6, label="wrong")
            ax.legend(fontsize=7)
        else:
            ax.hist(values[ok], bins=bins)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(f"{name} score", fontsize=8)
        ax.set_ylabel("training samples", fontsize=8)
    for ax in list(axes.flat)[len(scores):]:
        ax.axis("off")
    fig.suptitle("scores (higher = more suspicious)")
    return save(fig, path)


def memorization_curves(history: Dict[str, list], path: Path) -> Path:
    """``mem/noisy_fit``, ``mem/noisy_true``, ``mem/clean_fit`` and test accuracy over epochs."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for key in MEMORIZATION_KEYS:
        epochs, values = history.get(key, ([], []))
        if len(values):
            ax.plot(epochs, values, label=key, lw=2 if key == "test/acc" else 1.3)
    ax.set(xlabel="epoch", ylabel="share", ylim=(0, 1.02), title="memorization of the wrong labels")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs, not 0.5 steps of a 3-epoch run
    ax.legend(fontsize=8)
    return save(fig, path)


def _matrix(ax, m: np.ndarray, title: str, xlabel: str, ylabel: str):
    image = ax.imshow(m, vmin=0, vmax=1, cmap="viridis")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # class indices
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if len(m) <= 12:
        for (i, j), v in np.ndenumerate(m):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=6, color="w" if v < 0.5 else "k")
    return image


def transition_and_confusion(transition: Optional[np.ndarray], confusion: np.ndarray, rows_are: str,
                             path: Path) -> Path:
    """The realized noise transition matrix (clean -> given) beside the model's row-normalized confusion
    matrix on the training set (``rows_are`` -> predicted)."""
    panels = 2 if transition is not None else 1
    fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels + 0.8, 4.6), squeeze=False, layout="constrained")
    if transition is not None:
        _matrix(axes[0, 0], transition, "realized noise: P(given | clean)", "given label", "clean label")
    image = _matrix(axes[0, -1], confusion, f"model on the training set: P(predicted | {rows_are})",
                    "predicted label", f"{rows_are} label")
    fig.colorbar(image, ax=list(axes.flat), shrink=0.85, label="probability (each row sums to 1)")
    return save(fig, path)


def suspicious_grid(images: np.ndarray, table: Dict[str, np.ndarray], path: Path) -> Path:
    """The most suspicious training images (row-major), titled given -> suggested; red: a known wrong label."""
    k = len(images)
    cols = 8
    fig, axes = plt.subplots(-(-k // cols), cols, figsize=(1.6 * cols, 1.9 * -(-k // cols)), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, (ax, image) in enumerate(zip(axes.flat, images)):
        ax.imshow(image.squeeze(-1) if image.shape[-1] == 1 else image, cmap="gray")
        color = "red" if table["is_noisy"][i] == 1 else "black"
        ax.set_title(f"#{table['index'][i]}: {table['given_label'][i]}→{table['suggested_label'][i]}",
                     fontsize=7, color=color)
    fig.suptitle("most suspicious: index: given → suggested (red: known wrong)", fontsize=9)
    return save(fig, path)


def suspicious_text(lines: list, table: Dict[str, np.ndarray], path: Path) -> Path:
    """The most suspicious training samples of a token dataset, one line each in place of a thumbnail
    (for code: the file and the definition's first line), after index: given -> suggested; red: known wrong."""
    k = len(lines)
    fig, ax = plt.subplots(figsize=(11, 0.6 + 0.24 * k))
    ax.axis("off")
    for i, line in enumerate(lines):
        color = "red" if table["is_noisy"][i] == 1 else "black"
        text = f"#{table['index'][i]}: {table['given_label'][i]}→{table['suggested_label'][i]}   {line}"
        ax.text(0, 1 - (i + 0.5) / k, text[:150], fontsize=7, family="monospace", color=color,
                transform=ax.transAxes, va="center")
    ax.set_title("most suspicious: index: given → suggested (red: known wrong)", fontsize=9)
    return save(fig, path)
