"""Aggregate the runs of a sweep: `python -m noisyrobust.report logs/train/multiruns/<time>`; draw a paper's
figure from them: `python -m noisyrobust.report --figure zhang DIR` (noisyrobust.figures).

One row per setting: runs that differ only in their seed are averaged (mean ± std over seeds of the final
test accuracy, the mean of the last 10 epochs, the accuracy at the best validation epoch, and the last
epoch's label precision); then, for runs with a label-issue report, each score's AUROC and average
precision against the known wrong labels, likewise over seeds. A setting is everything a run's composed config (`.hydra/config.yaml`) and its
config-group choices hold, except what does not change the result (seeds, paths, loggers, checkpointing,
diagnostics); the settings that differ between the runs are the table's columns, beside data, noise and
method. A run whose summary.json cannot be read is skipped with a warning. The last column is the published
number of that method and setting where one is recorded (noisyrobust/published.py).
"""
import csv
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

import yaml

from noisyrobust.published import published

COLUMNS = [("test_acc_last", "last"), ("test_acc_mean_last10", "mean last 10"),
           ("test_acc_at_best_val", "at best val"), ("select/precision", "label precision")]
# shown where some run has them: top-5 accuracy (more than 10 classes) and a dataset's further test set
# (WebVision's ILSVRC 2012 validation images), at the last epoch
OPTIONAL_COLUMNS = [("test_acc_top5_last", "top-5 last"), ("test_imagenet_acc_last", "ImageNet last"),
                    ("test_imagenet_acc_top5_last", "ImageNet top-5 last")]
ALWAYS = ("data", "noise", "method")  # a run's identity, shown even when the sweep does not vary it
# config sections and groups that do not change what a run learns
IGNORED = ("paths", "logger", "callbacks", "diagnostics", "hydra", "ckpt_path")


def last_logged(metrics_csv: Path, key: str):
    if not metrics_csv.is_file():
        return None
    values = [row[key] for row in csv.DictReader(metrics_csv.open()) if row.get(key)]
    return float(values[-1]) if values else None


def flatten(cfg, prefix: str = "") -> dict:
    """``{"optimizer": {"lr": 0.1}}`` -> ``{"optimizer.lr": "0.1"}``; lists and scalars become strings."""
    if not isinstance(cfg, dict):
        return {prefix: json.dumps(cfg) if isinstance(cfg, list) else str(cfg)}
    return {k: v for key, value in cfg.items() for k, v in flatten(value, f"{prefix}{key}.").items()} if cfg \
        else {prefix: "{}"}


def is_result_neutral(key: str) -> bool:
    top = key.split(".", 1)[0].split("@", 1)[0].split("/", 1)[0]
    return top in IGNORED or key == "seed" or key.endswith(".seed")


def run_settings(run_dir: Path, summary: dict) -> dict:
    """Every setting of a run, as strings: ``data``, ``noise``, ``method`` from its summary, ``<group>`` for
    each config-group choice and ``<dotted.key>`` for each value of its composed config (uninterpolated:
    `${seed}` stays `${seed}`, so only what a user set differs)."""
    settings = {"data": str(summary["data"]), "noise": str(summary["noise"]["name"]),
                "method": str(summary["method"])}
    config, hydra = run_dir / ".hydra" / "config.yaml", run_dir / ".hydra" / "hydra.yaml"
    if hydra.is_file():
        choices = yaml.safe_load(hydra.read_text())["hydra"]["runtime"]["choices"]
        settings.update({g: str(c) for g, c in choices.items() if g not in settings})
    if config.is_file():
        settings.update({f"{k[:-1]}": v for k, v in flatten(yaml.safe_load(config.read_text())).items()})
    return {k: v for k, v in settings.items() if not is_result_neutral(k)}


def collect(root: Path) -> list:
    """``(settings, summary)`` of every readable run under ``root``; unreadable ones are named on stderr."""
    runs = []
    for path in sorted(root.rglob("summary.json")):
        try:
            summary = json.loads(path.read_text())
            settings = run_settings(path.parent, summary)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, yaml.YAMLError) as e:
            print(f"warning: skipping {path.parent}: unreadable summary.json or config ({type(e).__name__}: {e})",
                  file=sys.stderr)
            continue
        summary["select/precision"] = last_logged(path.parent / "metrics.csv", "select/precision")
        runs.append((settings, summary))
    return runs


def explained(key: str, by: str, runs: list) -> bool:
    """Whether ``key``'s value follows from the choice ``by`` in every run (``noise.rate`` from ``noise``)."""
    seen = {}
    return all(seen.setdefault(s.get(by), s.get(key)) == s.get(key) for s, _ in runs)


def varying_columns(runs: list) -> tuple:
    """The settings that differ between runs (the grouping key), and the ones worth a column: the varying
    choices, and the varying values that their group's choice (or the experiment) does not already explain."""
    keys = sorted({k for s, _ in runs for k in s})
    varying = [k for k in keys if len({s.get(k) for s, _ in runs}) > 1]
    choices = [k for k in varying if "." not in k]
    shown = [k for k in choices if k not in ALWAYS]
    for key in varying:
        if "." in key:
            # a method or an experiment config may set keys anywhere (a method's stages.*)
            owners = [c for c in choices if key.startswith(c.split("@")[-1] + ".") or c in ("experiment", "method")]
            if not any(explained(key, owner, runs) for owner in owners):
                shown.append(key)
    return varying, shown


def fmt(values: list) -> str:
    values = [100 * v for v in values if v is not None]
    if not values:
        return "-"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):6.2f} ± {sd:4.2f}"


def detection(summary: dict, score: str, measure: str):
    """A score's detection quality in a run's label-issue report (None where it has none)."""
    found = ((summary.get("label_issues") or {}).get("detection") or {}).get(score) or {}
    return found.get(measure)


def table(header: list, rows: list) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows])


def report(root: Path) -> str:
    """The accuracy table and, for runs with a label-issue report, the detection table: AUROC and average
    precision of every score (%, mean ± std over seeds)."""
    if not root.is_dir():
        raise SystemExit(f"error: {root} {'is not a directory' if root.exists() else 'does not exist'}; give a "
                         "sweep's directory (logs/train/multiruns/<time>) or any folder of run directories")
    runs = collect(root)
    if not runs:
        raise SystemExit(f"error: no readable summary.json under {root}")
    varying, shown = varying_columns(runs)
    groups = defaultdict(list)
    for settings, summary in runs:
        groups[tuple(settings.get(k, "-") for k in (*ALWAYS, *varying))].append((settings, summary))
    columns = COLUMNS + [(k, name) for k, name in OPTIONAL_COLUMNS if any(s.get(k) is not None for _, s in runs)]
    header = [*ALWAYS, *shown, "runs"] + [name for _, name in columns] + ["published"]
    rows, found = [], []
    for _, members in sorted(groups.items()):
        settings = members[0][0]
        key = [settings.get(k, "-") for k in (*ALWAYS, *shown)]
        rows.append(key + [str(len(members))] + [fmt([s.get(k) for _, s in members]) for k, _ in columns]
                    + [published(settings["method"], settings["data"], members[0][1]["noise"]) or "-"])
        scores = [(s.get("label_issues") or {}).get("scores") or [] for _, s in members]
        for score in dict.fromkeys(x for names in scores for x in names):
            found.append(key + [score] + [fmt([detection(s, score, m) for _, s in members]) for m in ("auroc", "ap")])
    out = table(header, rows)
    if found:
        out += "\n\ndetection of the wrong labels (label_issues.csv), % over seeds\n"
        out += table([*ALWAYS, *shown, "score", "AUROC", "AP"], found)
    return out


def main(argv=None) -> int:
    """``python -m noisyrobust.report DIR`` / ``noisyrobust report DIR``; ``--figure NAME DIR`` draws a figure."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) == 3 and argv[0] == "--figure":
        from noisyrobust.errors import UserError
        from noisyrobust.figures import draw_figure
        try:
            for png in draw_figure(argv[1], Path(argv[2])):
                print(f"wrote {png}")
        except UserError as error:
            raise SystemExit(f"error: {error}")
        return 0
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        raise SystemExit(__doc__)
    print(report(Path(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
