"""A W&B report of a project's noisyrobust runs (logger=wandb), with the panels of this field:

    python -m noisyrobust.dashboard --project P [--entity E] [--sweep DIR] [--dry-run]

Clean test accuracy per method and noise over epochs, label precision and recall of what the methods train
on, memorization curves, how well each per-sample score finds the wrong labels, and final accuracy as
mean ± std over seeds. Runs are grouped by their data, noise and method (the ``choices`` the W&B logger
records), so the seeds of one setting become one line with its spread. ``--sweep DIR`` restricts the
report to the runs under a local sweep directory and adds its table from ``noisyrobust.report``.
Uploading needs an API key (``WANDB_API_KEY`` or ``wandb login``); ``--dry-run`` prints the report instead.
"""
import argparse
import json
import re
import sys
from pathlib import Path

from noisyrobust.wandb_credentials import has_wandb_key, offline_by_environment

# The report's libraries (W&B's, and torch through the score names) are imported where they are used: the
# command checks its arguments and the key first, at once.

GROUP_BY = ["config.choices.data", "config.choices.noise", "config.choices.method"]
X = "epoch"  # Lightning logs it beside every metric; W&B's own step counts optimizer steps


def curves(title: str, keys: list):
    """Per-epoch curves of ``keys`` (a ``LinePlot``), one line per group: the mean over its seeds, shaded ± one
    std."""
    import wandb_workspaces.reports.v2 as wr

    return wr.LinePlot(title=title, x=X, y=keys, groupby_aggfunc="mean", groupby_rangefunc="stddev",
                       smoothing_type="none")


def bars(title: str, keys: list):
    """Each run's last value of ``keys`` (a ``BarPlot``), one bar per group: mean ± std over its seeds."""
    import wandb_workspaces.reports.v2 as wr

    return wr.BarPlot(title=title, metrics=keys, orientation="v", groupby_aggfunc="mean",
                      groupby_rangefunc="stddev")


def sweep_run_ids(sweep: Path) -> list:
    """The W&B ids of the runs under a sweep directory (``<run>/wandb/[offline-]run-<time>-<id>``)."""
    return sorted({p.name.rsplit("-", 1)[-1] for p in sweep.rglob("wandb/*run-*") if p.is_dir()})


def sweep_scores(sweep: Path) -> list:
    """The per-sample scores the sweep's runs computed (their summary.json), in the finder's order."""
    from noisyrobust.label_issues.finder import SCORES

    found = set()
    for path in sweep.rglob("summary.json"):
        try:
            found.update((json.loads(path.read_text()).get("label_issues") or {}).get("scores", []))
        except (OSError, ValueError):
            continue  # the report names unreadable summaries
    return [s for s in SCORES if s in found]


def build_report(*, project: str, entity: str = "", sweep=None, scores=None):
    """The report's spec (a ``wandb_workspaces`` Report; nothing is sent): headings and panel grids over one
    grouped run set."""
    import wandb_workspaces.reports.v2 as wr
    from wandb_workspaces import expr

    from noisyrobust.label_issues.finder import SCORES
    from noisyrobust.report import report as sweep_table

    sweep = Path(sweep) if sweep else None
    if scores is None:
        scores = (sweep_scores(sweep) if sweep else []) or list(SCORES)
    filters = [expr.Metric("ID").isin(sweep_run_ids(sweep))] if sweep else []
    runs = wr.Runset(entity=entity, project=project, name="noisyrobust runs", groupby=GROUP_BY, filters=filters)

    def grid(*panels):
        return wr.PanelGrid(runsets=[runs], panels=list(panels))

    blocks = [wr.P("Runs grouped by data, noise and method; lines and bars are the mean over seeds, "
                   "shaded / whiskered ± one standard deviation.")]
    if sweep:
        blocks += [wr.H2(f"Results of {sweep.name} (mean ± std over seeds, %)"),
                   wr.MarkdownBlock(markdown_table(sweep_table(sweep)))]
    blocks += [
        wr.H2("Clean test accuracy"),
        grid(curves("Test accuracy per method and noise", ["test/acc"]),
             bars("Final test accuracy (mean ± std over seeds)", ["test/acc"])),
        wr.H2("Label precision and recall of the selection"),
        grid(curves("Label precision: kept samples whose label is clean", ["select/precision"]),
             curves("Label recall: clean samples that were kept", ["select/recall"])),
        wr.H2("Memorization of the wrong labels"),
        grid(curves("Noisy samples predicted as their wrong label", ["mem/noisy_fit"]),
             curves("Noisy samples predicted as their true label", ["mem/noisy_true"]),
             curves("Clean samples predicted correctly", ["mem/clean_fit"])),
        wr.H2("Finding the wrong labels: per-sample scores"),
        grid(bars("AUROC of each score", [f"detect/{s}/auroc" for s in scores]),
             bars("Average precision of each score", [f"detect/{s}/ap" for s in scores])),
    ]
    title = f"noisyrobust: {sweep.name}" if sweep else f"noisyrobust: {project}"
    return wr.Report(project=project, entity=entity, title=title, blocks=blocks, width="fluid",
                     description="Robust training under noisy labels: accuracy, selection, memorization, "
                                 "label-issue detection")


def markdown_table(text: str) -> str:
    """The report's fixed-width tables as Markdown (columns are separated by two or more spaces; a table
    may have a one-column title line above it)."""
    blocks = []
    for chunk in text.strip().split("\n\n"):
        rows = [re.split(r"\s{2,}", line.strip()) for line in chunk.strip().splitlines()]
        if len(rows[0]) == 1:
            blocks.append(f"**{rows.pop(0)[0]}**")
        blocks.append("\n".join(["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0]),
                                 *("| " + " | ".join(r) + " |" for r in rows[1:])]))
    return "\n\n".join(blocks)


def describe(report) -> str:
    """The report as text: what --dry-run prints."""
    import wandb_workspaces.reports.v2 as wr

    lines = [f"W&B report {report.title!r} in {report.entity or '<your entity>'}/{report.project}"]
    for block in report.blocks:
        if isinstance(block, (wr.H1, wr.H2, wr.H3)):
            lines.append(f"\n## {block.text}")
        elif isinstance(block, wr.MarkdownBlock):
            lines.append(block.text)
        elif isinstance(block, wr.PanelGrid):
            for panel in block.panels:
                keys = panel.y if isinstance(panel, wr.LinePlot) else panel.metrics
                kind = f"curves over {panel.x}" if isinstance(panel, wr.LinePlot) else "bars of the last value"
                lines.append(f"  {panel.title}: {', '.join(keys)} ({kind}, {panel.groupby_aggfunc} "
                             f"± {panel.groupby_rangefunc})")
            runset = block.runsets[0]
            lines.append(f"  runs grouped by {', '.join(runset.groupby)}"
                         + (f"; only {runset.filters}" if runset.filters else ""))
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m noisyrobust.dashboard",
                                     description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 2)[2])
    parser.add_argument("--project", required=True, help="the W&B project the runs logged to")
    parser.add_argument("--entity", default="", help="the W&B user or team (default: the key's default)")
    parser.add_argument("--sweep", type=Path, help="only the runs under this sweep directory, with its table")
    parser.add_argument("--dry-run", action="store_true", help="print the report instead of uploading it")
    args = parser.parse_args(argv)
    if args.sweep and not args.sweep.is_dir():
        sys.exit(f"error: --sweep {args.sweep} is not a directory")
    if args.sweep and not sweep_run_ids(args.sweep):
        sys.exit(f"error: no W&B runs under {args.sweep} (were they trained with logger=wandb?)")
    if not args.dry_run and offline_by_environment():
        sys.exit("error: WANDB_MODE=offline, but saving the report needs the W&B server; unset WANDB_MODE, or "
                 "--dry-run prints the report without uploading it")
    if not args.dry_run and not has_wandb_key():
        sys.exit("error: no W&B API key (set WANDB_API_KEY or run `wandb login`); "
                 "--dry-run prints the report without uploading it")
    if args.dry_run:
        print(describe(build_report(project=args.project, entity=args.entity, sweep=args.sweep)))
        return
    try:  # network, auth and missing-project errors all end here, as one line
        import wandb

        entity = args.entity or wandb.Api().default_entity
        report = build_report(project=args.project, entity=entity, sweep=args.sweep)
        report.save()
    except Exception as e:  # noqa: BLE001
        sys.exit(f"error: could not save the report to W&B: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
    print(f"report: {report.url}")


if __name__ == "__main__":
    main()
