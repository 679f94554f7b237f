"""Plots of a finished run's label-issue report: `python -m noisyrobust.diagnose RUN_DIR`.

Writes PNG files under RUN_DIR/plots/: ROC and precision-recall curves of every score, each score's
histogram for clean vs wrong labels, the memorization curves over epochs, the realized noise transition
matrix beside the model's confusion matrix on the training set, and the 32 most suspicious images."""
import argparse
import csv
import logging
import sys
from pathlib import Path

import numpy as np

from noisyrobust.errors import UserError

log = logging.getLogger(__name__)
GRID = 32


def read_run(run_dir: Path) -> dict:
    """The files of a run that the plots need; a clear error when ``run_dir`` is not a finished run with a
    label-issue report."""
    from noisyrobust.label_issues.table import read_issue_table
    from noisyrobust.noise.stats import load_noisy_labels

    if not run_dir.is_dir():
        raise UserError(f"{run_dir} is not a directory; give the directory of a finished run "
                        "(logs/train/runs/<run>)")
    if not (run_dir / ".hydra" / "config.yaml").is_file() or not (run_dir / "noisy_labels.npz").is_file():
        raise UserError(f"{run_dir} is not a noisyrobust run directory (no .hydra/config.yaml and "
                        "noisy_labels.npz); give the directory of a finished run (logs/train/runs/<run>)")
    table_path = next((p for p in (run_dir / "label_issues.csv.gz", run_dir / "label_issues.csv") if p.is_file()), None)
    if table_path is None:
        raise UserError(f"{run_dir} has no label_issues.csv: the run did not finish, ran with diagnostics=none, "
                        "or comes from before the label-issue report; train it again")
    table = read_issue_table(table_path)
    return {"table": table, "scores": list(table)[3:-1], "labels": load_noisy_labels(run_dir / "noisy_labels.npz"),
            "history": read_history(run_dir / "metrics.csv")}


def read_history(path: Path) -> dict:
    """{key: (epochs, values)} of the per-epoch metrics in Lightning's ``metrics.csv`` (last value per epoch)."""
    if not path.is_file():
        return {}
    by_key: dict = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            if not row.get("epoch"):
                continue
            for key, value in row.items():
                if value and key not in ("epoch", "step"):
                    by_key.setdefault(key, {})[int(row["epoch"])] = float(value)
    return {k: (sorted(v), [v[e] for e in sorted(v)]) for k, v in by_key.items()}


def confusion(rows: np.ndarray, cols: np.ndarray, num_classes: int) -> np.ndarray:
    """Row-normalized counts of (rows[i], cols[i]); a row with no sample stays 0."""
    counts = np.zeros((num_classes, num_classes))
    np.add.at(counts, (rows, cols), 1)
    return counts / np.maximum(counts.sum(1, keepdims=True), 1)


def preview_images(run_dir: Path, indices: np.ndarray):
    """The training images ``indices`` of the run's dataset (read again from its saved config), or None with
    a line saying why they are left out."""
    import hydra
    from omegaconf import OmegaConf

    try:
        cfg = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
        datamodule = hydra.utils.instantiate(cfg.data, noise=None, noise_seed=0)
        return datamodule.preview(indices)
    except Exception as e:  # noqa: BLE001 - the other plots do not need the images
        print(f"image grid left out: the run's data could not be read again ({type(e).__name__}: "
              f"{str(e).splitlines()[0][:160] if str(e) else ''})")
        return None


def write_plots(run_dir: Path) -> list:
    """Every plot of the run under ``run_dir/plots``; returns the paths written."""
    from noisyrobust.diagnostics import plots

    run = read_run(run_dir)
    table, scores, labels = run["table"], run["scores"], run["labels"]
    out = run_dir / "plots"
    written = []
    known = table["is_noisy"] >= 0
    if known.any() and (table["is_noisy"][known] == 1).any() and (table["is_noisy"][known] == 0).any():
        written.append(plots.detection_curves(table, scores, out / "detection_curves.png"))
    else:
        print("ROC and precision-recall curves left out: the clean labels of the training samples are unknown "
              "(or none of them is wrong), so no score can be checked against the noise")
    written.append(plots.score_histograms(table, scores, out / "score_histograms.png"))
    if run["history"]:
        written.append(plots.memorization_curves(run["history"], out / "memorization.png"))
    num_classes = len(labels["transition_matrix"])
    clean = labels["clean"][table["index"]]
    if (clean >= 0).any():
        model = confusion(clean[clean >= 0], table["suggested_label"][clean >= 0], num_classes)
        transition, rows_are = labels["transition_matrix"], "clean"
    else:
        model = confusion(table["given_label"], table["suggested_label"], num_classes)
        transition, rows_are = None, "given"
    written.append(plots.transition_and_confusion(transition, model, rows_are, out / "transition_confusion.png"))
    images = preview_images(run_dir, table["index"][:GRID])
    if images is not None:
        top = {k: v[:GRID] for k, v in table.items()}
        written.append(plots.suspicious_grid(images, top, out / "most_suspicious.png"))
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m noisyrobust.diagnose", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a finished run (logs/train/runs/<run>)")
    args = parser.parse_args(argv)
    try:
        written = write_plots(args.run_dir.expanduser().resolve())
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
