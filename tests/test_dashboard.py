"""`python -m noisyrobust.dashboard` builds a W&B report of the field's panels; built and checked offline."""
import csv
import json
import subprocess
import sys

import wandb_workspaces.reports.v2 as wr

from conftest import ROOT
from noisyrobust.dashboard import GROUP_BY, build_report
from noisyrobust.label_issues.finder import SCORES


def panels(report) -> dict:
    """Every panel of the report by its title, with the run set of its grid."""
    return {p.title: (p, block.runsets[0]) for block in report.blocks if isinstance(block, wr.PanelGrid)
            for p in block.panels}


def keys(panel) -> list:
    return panel.y if isinstance(panel, wr.LinePlot) else panel.metrics


def test_report_has_the_panels_of_the_field_grouped_over_seeds():
    report = build_report(project="noisy", entity="lab")
    by_title = panels(report)
    plotted = {k: type(p) for p, _ in by_title.values() for k in keys(p)}
    curves = ["test/acc", "select/precision", "select/recall", "mem/noisy_fit", "mem/noisy_true", "mem/clean_fit"]
    for key in curves:
        assert any(isinstance(p, wr.LinePlot) and keys(p) == [key] for p, _ in by_title.values()), key
    for p, _ in by_title.values():
        if isinstance(p, wr.LinePlot):
            assert p.x == "epoch"
    # final accuracy and detection quality as bars: the mean of each group's last values, ± std over seeds
    assert any(isinstance(p, wr.BarPlot) and keys(p) == ["test/acc"] for p, _ in by_title.values())
    for score in SCORES:
        assert plotted[f"detect/{score}/auroc"] is wr.BarPlot and plotted[f"detect/{score}/ap"] is wr.BarPlot
    for p, runset in by_title.values():
        assert (p.groupby_aggfunc, p.groupby_rangefunc) == ("mean", "stddev")
        assert runset.groupby == GROUP_BY == ["config.choices.data", "config.choices.noise",
                                              "config.choices.method"]
        assert (runset.entity, runset.project, runset.filters) == ("lab", "noisy", "")
    assert (report.entity, report.project) == ("lab", "noisy")


def test_every_plotted_metric_is_one_a_real_run_logs(fit):
    summary, run_dir = fit("method=coteaching", "noise=sym0.4")
    with (run_dir / "metrics.csv").open() as f:
        logged = set(next(csv.reader(f)))
    report = build_report(project="p", entity="e", scores=summary["label_issues"]["scores"])
    plotted = {k for p, _ in panels(report).values() for k in keys(p)}
    assert plotted <= logged, plotted - logged
    assert "epoch" in logged


def write_sweep_run(path, *, run_id, method, seed, last, scores):
    path.mkdir(parents=True)
    (path / "wandb" / f"offline-run-20261201_120000-{run_id}").mkdir(parents=True)
    (path / "wandb" / "latest-run").symlink_to(path / "wandb" / f"offline-run-20261201_120000-{run_id}")
    (path / "summary.json").write_text(json.dumps({
        "data": "digits", "noise": {"name": "sym0.4"}, "method": method, "seed": seed, "test_acc_last": last,
        "test_acc_mean_last10": last, "label_issues": {"scores": scores}}))


def test_a_sweep_report_shows_only_its_runs_and_its_table(tmp_path):
    write_sweep_run(tmp_path / "0", run_id="a1b2c3", method="jocor", seed=1, last=0.90, scores=["loss", "aum"])
    write_sweep_run(tmp_path / "1", run_id="d4e5f6", method="jocor", seed=2, last=0.94, scores=["loss", "aum"])
    report = build_report(project="p", entity="e", sweep=tmp_path)
    (runset,) = {id(r): r for _, r in panels(report).values()}.values()  # one run set shared by every grid
    assert runset.filters == """Metric("ID") in ['a1b2c3', 'd4e5f6']"""
    (table,) = [b.text for b in report.blocks if isinstance(b, wr.MarkdownBlock)]
    accuracy, title, detection_table = table.split("\n\n")
    header, rule, row = accuracy.splitlines()
    assert header.startswith("| data | noise | method | runs | last |") and rule.startswith("|---|")
    assert row.startswith("| digits | sym0.4 | jocor | 2 | 92.00 ± 2.83 |")
    assert title.startswith("**detection of the wrong labels")
    assert [line.split(" | ")[3] for line in detection_table.splitlines()[2:]] == ["loss", "aum"]
    detection = {k for p, _ in panels(report).values() for k in keys(p) if k.startswith("detect/")}
    assert detection == {"detect/loss/auroc", "detect/aum/auroc", "detect/loss/ap", "detect/aum/ap"}


def dashboard(*args, env=None):
    import os
    return subprocess.run([sys.executable, "-m", "noisyrobust.dashboard", *args], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **(env or {})})


def test_without_a_key_the_upload_is_refused_in_one_line_and_dry_run_prints_the_report(tmp_path):
    env = {"WANDB_API_KEY": "", "HOME": str(tmp_path)}
    r = dashboard("--project", "noisy", env=env)
    assert r.returncode != 0 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        "error: no W&B API key (set WANDB_API_KEY or run `wandb login`); --dry-run prints the report without "
        "uploading it"]
    r = dashboard("--project", "noisy", "--dry-run", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("W&B report 'noisyrobust: noisy' in <your entity>/noisy")
    for key in ("test/acc", "select/precision", "select/recall", "mem/noisy_fit", "detect/aum/auroc"):
        assert key in r.stdout


def test_a_missing_key_is_said_before_torch_or_the_report_libraries_are_imported(tmp_path):
    code = ("import sys\nfrom noisyrobust.dashboard import main\ntry:\n    main(['--project', 'noisy'])\n"
            "except SystemExit as e:\n    print(e.code)\n"
            "print(sorted(m for m in ('torch', 'lightning', 'wandb_workspaces') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       env={**__import__("os").environ, "WANDB_API_KEY": "", "HOME": str(tmp_path)})
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.splitlines() == ["error: no W&B API key (set WANDB_API_KEY or run `wandb login`); --dry-run "
                                     "prints the report without uploading it", "[]"]


def test_wandb_mode_offline_refuses_the_upload_in_one_line_without_a_network_attempt(tmp_path):
    r = dashboard("--project", "noisy", env={"WANDB_API_KEY": "f" * 40, "WANDB_MODE": "offline",
                                             "HOME": str(tmp_path)})
    assert r.returncode != 0 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        "error: WANDB_MODE=offline, but saving the report needs the W&B server; unset WANDB_MODE, or --dry-run "
        "prints the report without uploading it"]
