"""Aggregate the runs of a sweep: `python -m noisyrobust.report logs/train/multiruns/<time>`.

One row per (data, noise, method): mean ± std over seeds of the final test accuracy, the mean of the
last 10 epochs, the accuracy at the best validation epoch, the last epoch's label precision, and the
published number of that method and setting where one is recorded (noisyrobust/published.py).
"""
import csv
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

from noisyrobust.published import published

COLUMNS = [("test_acc_last", "last"), ("test_acc_mean_last10", "mean last 10"),
           ("test_acc_at_best_val", "at best val"), ("select/precision", "label precision")]


def last_logged(metrics_csv: Path, key: str):
    if not metrics_csv.is_file():
        return None
    values = [row[key] for row in csv.DictReader(metrics_csv.open()) if row.get(key)]
    return float(values[-1]) if values else None


def collect(root: Path) -> dict:
    groups = defaultdict(list)
    for path in sorted(root.rglob("summary.json")):
        s = json.loads(path.read_text())
        s["select/precision"] = last_logged(path.parent / "metrics.csv", "select/precision")
        groups[(s["data"], s["noise"]["name"], s["method"])].append(s)
    return groups


def fmt(values: list) -> str:
    values = [100 * v for v in values if v is not None]
    if not values:
        return "-"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):6.2f} ± {sd:4.2f}"


def report(root: Path) -> str:
    groups = collect(root)
    if not groups:
        raise SystemExit(f"error: no summary.json under {root}")
    header = ["data", "noise", "method", "runs"] + [name for _, name in COLUMNS] + ["published"]
    rows = [[*key, str(len(runs))] + [fmt([r.get(k) for r in runs]) for k, _ in COLUMNS]
            + [published(key[2], key[0], runs[0]["noise"]) or "-"] for key, runs in sorted(groups.items())]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in [header, *rows])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print(report(Path(sys.argv[1])))
