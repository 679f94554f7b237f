"""The label-issue table of a run: one row per training sample, most suspicious first, written atomically.

``label_issues.csv`` holds every row up to ``FULL_CSV_MAX_ROWS`` training samples. Above that (Clothing1M)
it holds the ``TOP_ROWS`` most suspicious, and ``label_issues.csv.gz`` beside it holds every row: a
million-row CSV is 60 MB that no spreadsheet opens, and the top of the ranking is what a person reads."""
import csv
import gzip
import io
from pathlib import Path
from typing import Dict, Optional

import numpy as np

from noisyrobust.label_issues.detection import detection_quality, suspicion_order
from noisyrobust.files import atomic_write

FULL_CSV_MAX_ROWS = 200_000
TOP_ROWS = 10_000


def issue_table(rows: np.ndarray, *, given: np.ndarray, suggested: np.ndarray, clean: np.ndarray,
                scores: Dict[str, np.ndarray], order_by: str) -> Dict[str, np.ndarray]:
    """Columns of the table over the training samples ``rows`` (global indices), sorted from most to
    least suspicious by ``scores[order_by]`` (ties by index). ``is_noisy`` is -1 where the clean label is
    unknown (clean < 0), written as an empty cell."""
    order = rows[suspicion_order(scores[order_by][rows])]
    table = {"index": order, "given_label": given[order], "suggested_label": suggested[order]}
    table.update({name: s[order] for name, s in scores.items()})
    table["is_noisy"] = np.where(clean[order] < 0, -1, (given[order] != clean[order]).astype(int))
    return table


def detection_by_score(table: Dict[str, np.ndarray], score_names) -> Optional[Dict[str, Dict[str, float]]]:
    """Detection quality of each score against the known noise (rows with a known clean label); None when
    no wrong label, or no right one, is known (a user's folder without injected noise, clean data)."""
    known = table["is_noisy"] >= 0
    if len(set(table["is_noisy"][known].tolist())) < 2:
        return None
    return {name: detection_quality(table[name][known], table["is_noisy"][known] == 1) for name in score_names}


def _csv_text(table: Dict[str, np.ndarray], stop: Optional[int] = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(table))
    columns = [table[c][:stop] for c in table]
    for values in zip(*columns):
        writer.writerow([_cell(name, v) for name, v in zip(table, values)])
    return out.getvalue()


def _cell(name: str, value) -> str:
    if name == "is_noisy" and value < 0:
        return ""
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else f"{value:.6g}"
    return str(value)


def write_issue_table(run_dir: Path, table: Dict[str, np.ndarray]) -> list:
    """Write ``label_issues.csv`` (and, above ``FULL_CSV_MAX_ROWS`` rows, ``label_issues.csv.gz`` with every
    row); returns the paths written."""
    run_dir = Path(run_dir)
    n = len(table["index"])
    written = []
    if n > FULL_CSV_MAX_ROWS:
        with atomic_write(run_dir / "label_issues.csv.gz") as f:
            f.write(gzip.compress(_csv_text(table).encode(), mtime=0))
        written.append(run_dir / "label_issues.csv.gz")
    with atomic_write(run_dir / "label_issues.csv", "w") as f:
        f.write(_csv_text(table, None if n <= FULL_CSV_MAX_ROWS else TOP_ROWS))
    written.append(run_dir / "label_issues.csv")
    return written


def read_issue_table(path: Path) -> Dict[str, np.ndarray]:
    """Read a table written by ``write_issue_table`` (plain or .gz): numeric columns, NaN / -1 for empty."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    ragged = next((n for n, row in enumerate(rows, start=2) if len(row) != len(header)), None)
    if ragged:  # zip would silently drop the columns the short row lacks
        raise ValueError(f"line {ragged} has {len(rows[ragged - 2])} of its {len(header)} columns (a file cut short?)")
    cells = list(zip(*rows)) or [()] * len(header)
    table = {}
    for name, column in zip(header, cells):
        if name in ("index", "given_label", "suggested_label", "is_noisy"):
            table[name] = np.array([int(v) if v else -1 for v in column], dtype=np.int64)
        else:
            table[name] = np.array([float(v) if v else np.nan for v in column], dtype=np.float64)
    return table


def format_label_issues(report) -> list:
    """The end-of-run lines of the label-issue report (``report``: the summary's ``label_issues``)."""
    if not report:
        return []
    files = " + ".join(report["files"])
    peak = report.get("validation_peak_epoch", -1)
    early = f" (epochs 0..{peak}, up to the validation peak)" if report["default_score"].startswith("early_") \
        and peak >= 0 else ""
    lines = [f"label issues: {files}, {report['rows']} training samples ordered by {report['default_score']}{early}; "
             f"{report['flagged_by_suggestion']} have a suggested label other than the given one"]
    if report["detection"] is None:
        lines.append("detection quality left out: no training sample is known to have a wrong label (a user's own "
                     "labels, or no noise injected), so no score can be checked against the noise")
        return lines
    width = max(len(s) for s in report["detection"])
    lines.append(f"detection of the wrong labels    {'score':<{width}}  AUROC   AP      precision@k")
    for name, d in report["detection"].items():
        star = " (default)" if name == report["default_score"] else ""
        lines.append(f"                                 {name:<{width}}  {d['auroc']:.4f}  {d['ap']:.4f}  "
                     f"{d['precision_at_k']:.4f}{star}")
    return lines
