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
    if table_path.stat().st_size == 0:
        raise UserError(f"{table_path} is empty; train the run again")
    try:
        table = read_issue_table(table_path)
    except (OSError, EOFError, ValueError, UnicodeDecodeError, csv.Error, StopIteration) as e:
        raise UserError(f"{table_path} is not a readable label table ({_reason(e)}); train the run again") from None
    labels = load_noisy_labels(run_dir / "noisy_labels.npz")
    check_table(table, labels, table_path)
    return {"table": table, "scores": list(table)[3:-1], "labels": labels,
            "history": read_history(run_dir / "metrics.csv")}


def _reason(error: BaseException) -> str:
    from noisyrobust.data.download import one_line  # imported here: noisyrobust.data imports torch

    return one_line(error, limit=160)


def check_table(table: dict, labels: dict, path: Path) -> None:
    """The label table agrees with itself and with ``noisy_labels.npz``, before any plot is drawn."""
    needed = ["index", "given_label", "suggested_label", "is_noisy"]
    missing = [c for c in needed if c not in table]
    if missing or len(table) < len(needed) + 1:
        raise UserError(f"{path} lacks the columns {', '.join(missing) or 'of any score'}; train the run again")
    if not len(table["index"]):
        raise UserError(f"{path} holds a header and no rows; train the run again")
    samples, classes = len(labels["clean"]), len(labels["transition_matrix"])
    for name, top in (("index", samples), ("given_label", classes), ("suggested_label", classes)):
        bad = (table[name] < 0) | (table[name] >= top)
        if bad.any():
            raise UserError(f"{path}: {name} {int(table[name][bad][0])} is outside 0..{top - 1} (noisy_labels.npz: "
                            f"{samples} samples, {classes} classes); it belongs to another run")


def read_history(path: Path) -> dict:
    """{key: (epochs, values)} of the per-epoch metrics in Lightning's ``metrics.csv`` (last value per epoch)."""
    if not path.is_file():
        return {}
    by_key: dict = {}
    line = 1
    try:
        with path.open(newline="") as f:
            for line, row in enumerate(csv.DictReader(f), start=2):
                if None in row or None in row.values():  # more or fewer cells than the header
                    raise ValueError(f"{len([v for v in row.values() if v is not None])} cells where the header "
                                     f"has {len([k for k in row if k is not None])}")
                if not row.get("epoch"):
                    continue
                for key, value in row.items():
                    if value and key not in ("epoch", "step"):
                        by_key.setdefault(key, {})[int(float(row["epoch"]))] = float(value)
    except (OSError, ValueError, TypeError, UnicodeDecodeError, csv.Error) as e:
        raise UserError(f"{path} line {line} is not a metrics row ({_reason(e)})") from None
    return {k: (sorted(v), [v[e] for e in sorted(v)]) for k, v in by_key.items()}


def confusion(rows: np.ndarray, cols: np.ndarray, num_classes: int) -> np.ndarray:
    """Row-normalized counts of (rows[i], cols[i]); a row with no sample stays 0."""
    counts = np.zeros((num_classes, num_classes))
    np.add.at(counts, (rows, cols), 1)
    return counts / np.maximum(counts.sum(1, keepdims=True), 1)


def preview_images(run_dir: Path, indices: np.ndarray) -> tuple:
    """(the training images ``indices`` of the run's dataset, read again from its saved config, None), or
    (None, why they are left out). Token data gives a line of text per sample instead of an image."""
    import hydra
    from omegaconf import OmegaConf

    try:
        cfg = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
        datamodule = hydra.utils.instantiate(cfg.data, noise=None, noise_seed=0)
        return datamodule.preview(indices), None
    except Exception as e:  # noqa: BLE001 - the other plots do not need the images
        return None, f"the run's data could not be read again ({_reason(e)})"


def write_plots(run_dir: Path) -> tuple:
    """Every plot of the run under ``run_dir/plots``, after every input is read and checked (a damaged run
    gets a UserError and no plot); returns (paths written, lines naming each plot not drawn and why)."""
    from noisyrobust.label_issues import plots

    run = read_run(run_dir)
    table, scores, labels = run["table"], run["scores"], run["labels"]
    out = run_dir / "plots"
    written, left_out = [], []

    def draw(name: str, plot, *args) -> None:
        try:
            written.append(plot(*args, out / f"{name}.png"))
        except Exception as e:  # noqa: BLE001 - one plot that fails does not take the others with it
            left_out.append(f"{out / name}.png not drawn: {_reason(e)}")

    known = table["is_noisy"] >= 0
    if known.any() and (table["is_noisy"][known] == 1).any() and (table["is_noisy"][known] == 0).any():
        draw("detection_curves", plots.detection_curves, table, scores)
    else:
        left_out.append("ROC and precision-recall curves left out: the clean labels of the training samples are "
                        "unknown (or none of them is wrong), so no score can be checked against the noise")
    draw("score_histograms", plots.score_histograms, table, scores)
    if any(key in run["history"] for key in plots.MEMORIZATION_KEYS):
        draw("memorization", plots.memorization_curves, run["history"])
    else:
        left_out.append(f"memorization curves left out: {run_dir / 'metrics.csv'} is missing or has none of "
                        f"{', '.join(plots.MEMORIZATION_KEYS)}")
    num_classes = len(labels["transition_matrix"])
    clean = labels["clean"][table["index"]]
    if (clean >= 0).any():
        model = confusion(clean[clean >= 0], table["suggested_label"][clean >= 0], num_classes)
        transition, rows_are = labels["transition_matrix"], "clean"
    else:
        model = confusion(table["given_label"], table["suggested_label"], num_classes)
        transition, rows_are = None, "given"
    draw("transition_confusion", plots.transition_and_confusion, transition, model, rows_are)
    images, why = preview_images(run_dir, table["index"][:GRID])
    if images is None:
        left_out.append(f"image grid left out: {why}")
    else:
        grid = plots.suspicious_grid if isinstance(images, np.ndarray) else plots.suspicious_text  # token data: text
        draw("most_suspicious", grid, images, {k: v[:GRID] for k, v in table.items()})
    return written, left_out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m noisyrobust.diagnose", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a finished run (logs/train/runs/<run>)")
    args = parser.parse_args(argv)
    try:
        written, left_out = write_plots(args.run_dir.expanduser().resolve())
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for line in [*map(str, written), *left_out]:
        print(line)
    return 1 if any(" not drawn: " in line for line in left_out) else 0


if __name__ == "__main__":
    sys.exit(main())
