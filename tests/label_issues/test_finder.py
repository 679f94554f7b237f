"""The label-issue report end to end: every run writes label_issues.csv sorted and oriented as promised,
the default score finds sym0.4's wrong labels on the digits, a resumed run and a 2-process DDP run write
what one uninterrupted process writes, the costly scores run by name, bad input gets one line, and
`python -m noisyrobust.diagnose` draws the plots."""
import csv
import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from conftest import DDP_FORK, ROOT, refused, run_cli

from noisyrobust.label_issues.finder import LabelIssues
from noisyrobust.label_issues.table import read_issue_table
from noisyrobust.errors import UserError
from noisyrobust.noise import load_noisy_labels

FREE = ["loss", "aum", "forgetting", "first_learned", "early_loss", "early_aum", "early_forgetting",
        "early_first_learned"]


def diagnose(run_dir):
    return subprocess.run([sys.executable, "-m", "noisyrobust.diagnose", str(run_dir)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_every_run_writes_the_table_sorted_oriented_and_its_detection_quality(tmp_path):
    r = run_cli(tmp_path / "run", "noise=sym0.4", "trainer.max_epochs=3")
    assert r.returncode == 0, r.stderr[-2000:]
    run = tmp_path / "run"
    with (run / "label_issues.csv").open() as f:
        header = next(csv.reader(f))
    assert header == ["index", "given_label", "suggested_label", *FREE, "is_noisy"]
    table = read_issue_table(run / "label_issues.csv")
    labels = load_noisy_labels(run / "noisy_labels.npz")
    assert len(table["index"]) == 1293 and len(set(table["index"].tolist())) == 1293  # the training split
    assert np.all(np.diff(table["early_aum"]) <= 0)  # most suspicious first by the default score
    assert table["given_label"].tolist() == labels["noisy"][table["index"]].tolist()
    assert table["is_noisy"].tolist() == (labels["noisy"] != labels["clean"])[table["index"]].astype(int).tolist()
    # oriented higher = more suspicious: the wrong labels score higher on average by every free score
    noisy = table["is_noisy"] == 1
    for name in FREE:
        assert table[name][noisy].mean() > table[name][~noisy].mean(), name
    summary = json.loads((run / "summary.json").read_text())
    report = summary["label_issues"]
    assert report["default_score"] == "early_aum" and report["scores"] == FREE and report["rows"] == 1293
    assert set(report["detection"]) == set(FREE) and set(report["detection"]["aum"]) == {"auroc", "ap", "precision_at_k"}
    with (run / "metrics.csv").open() as f:
        logged = [row for row in csv.DictReader(f) if row.get("detect/aum/auroc")]
    assert float(logged[-1]["detect/aum/auroc"]) == pytest.approx(report["detection"]["aum"]["auroc"])
    assert "detection of the wrong labels" in r.stdout and "aum" in r.stdout


def test_the_default_score_finds_the_wrong_labels_of_sym04_on_the_digits(fit):
    summary, _ = fit("noise=sym0.4", "trainer.max_epochs=20")
    assert summary["label_issues"]["detection"]["early_aum"]["auroc"] > 0.9


def test_a_resumed_run_writes_the_table_and_trajectories_of_an_uninterrupted_one(fit):
    common = ["noise=sym0.4", "seed=5", "model.dropout=0.2", "diagnostics.scores=[vog]", "diagnostics.vog_checkpoints=3",
              "diagnostics.keep_trajectories=true", "trainer.max_epochs=4"]
    _, full = fit(*common, name="full")
    # the same run interrupted after 2 of its 4 epochs (10 steps each), then resumed from its last.ckpt
    _, half = fit(*common, "+trainer.max_steps=20", name="half")
    _, resumed = fit(*common, f"ckpt_path={half}/checkpoints/last.ckpt", name="resumed")
    assert (resumed / "label_issues.csv").read_text() == (full / "label_issues.csv").read_text()
    a, b = np.load(full / "per_sample.npz"), np.load(resumed / "per_sample.npz")
    assert a["epoch"].tolist() == b["epoch"].tolist() == [0, 1, 2, 3]
    for key in ("loss", "margin", "correct"):
        np.testing.assert_array_equal(a[key], b[key])


def test_two_cpu_processes_keep_the_per_sample_state_of_one_process(fit):
    args = ["noise=sym0.4", "trainer.max_epochs=3", "model.dropout=0", "data.batch_size=128"]
    runs = [fit(*args, name="one")[1], fit(*args, *DDP_FORK, name="two")[1]]
    a, b = (read_issue_table(run / "label_issues.csv") for run in runs)
    order_a, order_b = np.argsort(a["index"]), np.argsort(b["index"])
    assert a["index"][order_a].tolist() == b["index"][order_b].tolist()  # every training sample, once
    for name in ("loss", "aum"):  # the same networks up to float summation order
        np.testing.assert_allclose(a[name][order_a], b[name][order_b], rtol=1e-3, atol=1e-4)
    for name in ("forgetting", "first_learned", "suggested_label"):
        assert (a[name][order_a] == b[name][order_b]).mean() > 0.99, name


def test_the_costly_scores_run_by_name_and_fill_every_row(fit):
    summary, out = fit("noise=sym0.4", "trainer.max_epochs=2", "diagnostics.scores=[vog,cl,cg,self_influence]",
                       "diagnostics.cv_folds=2", "diagnostics.cv_epochs=1", "diagnostics.self_influence_epochs=1")
    table = read_issue_table(out / "label_issues.csv")
    extra = ["vog", "cl", "cg", "self_influence"]
    assert list(table)[3:-1] == FREE + extra
    for name in extra:
        assert np.isfinite(table[name]).all(), name
    assert ((table["cl"] >= 0) & (table["cl"] <= 2)).all()  # flagged: 1 + (1 - p), else 1 - p
    for c in np.unique(table["given_label"]):  # VoG is normalized within each given label
        assert abs(table["vog"][table["given_label"] == c].mean()) < 1e-4  # the CSV keeps 6 digits
    assert set(summary["label_issues"]["detection"]) == set(FREE + extra)


@pytest.mark.parametrize("args, message", [
    (["diagnostics.scores=[aum,magic]"], "diagnostics.scores has unknown score 'magic'; choose from: loss, aum"),
    (["diagnostics.scores=[cl]", "diagnostics.cv_folds=1"], "diagnostics.cv_folds=1 is outside [2, "),
    (["diagnostics.scores=[cl]", "diagnostics.cv_folds=500"], "diagnostics.cv_folds=500 is outside [2, "),
    (["diagnostics.scores=[cg]", "diagnostics.cg_max_gb=0.0001"], "the complexity-gap score needs"),
    (["diagnostics.default_score=vog"], "diagnostics.default_score='vog' is not among the computed scores"),
    (["diagnostics.scores=[cg]", "diagnostics.cg_max_gb=-1"], "diagnostics.cg_max_gb=-1 must be > 0"),
])
def test_bad_diagnostics_get_one_line_and_nothing_is_written(tmp_path, args, message):
    assert message in refused(tmp_path / "run", "noise=sym0.4", *args)  # the command's line
    assert not (tmp_path / "run" / "noisy_labels.npz").exists() and not (tmp_path / "run" / "label_issues.csv").exists()


def test_one_score_given_as_a_string_is_a_list_of_that_score():
    assert LabelIssues(scores="vog").scores == FREE + ["vog"]  # diagnostics.scores=vog, not [v, o, g]
    with pytest.raises(UserError, match="unknown score 'magic'"):
        LabelIssues(scores="magic")


def test_vog_is_refused_on_data_without_image_inputs():
    data = SimpleNamespace(name="tabular", image_size=None, noisy_labels=torch.zeros(4, dtype=torch.long),
                           train_indices=torch.arange(4), num_classes=2)
    with pytest.raises(UserError, match="VoG needs image inputs"):
        LabelIssues(scores=["vog"]).check(data)


def test_diagnose_draws_every_plot_of_a_finished_run(tmp_path, fit):
    fit("noise=sym0.4", "trainer.max_epochs=2", hydra_config=True)  # in-process; diagnose is the CLI under test
    r = diagnose(tmp_path / "run")
    assert r.returncode == 0, r.stderr
    names = ["detection_curves", "score_histograms", "memorization", "transition_confusion", "most_suspicious"]
    for name in names:
        png = tmp_path / "run" / "plots" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert sorted(p.name for p in (tmp_path / "run" / "plots").iterdir()) == sorted(f"{n}.png" for n in names)


def test_diagnose_refuses_what_is_not_a_finished_run_with_one_line(tmp_path, fit):
    (tmp_path / "empty").mkdir()
    for target, message in ((tmp_path / "nothing", "is not a directory"),
                            (tmp_path / "empty", "is not a noisyrobust run directory")):
        r = diagnose(target)
        assert r.returncode == 2 and r.stderr.strip().startswith("error: ") and message in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    fit("trainer.max_epochs=1", "diagnostics=none", name="old", hydra_config=True)
    r = diagnose(tmp_path / "old")  # a run without the report (from before it, or diagnostics=none)
    assert r.returncode == 2 and "has no label_issues.csv" in r.stderr
    assert not (tmp_path / "old" / "plots").exists()


@pytest.mark.slow
def test_a_users_own_folder_gets_a_ranking_and_suggestions_without_detection(tmp_path):
    from formats import write_image_folder

    write_image_folder(tmp_path / "imgs", {"cat": 12, "dog": 12}, test_counts={"cat": 3, "dog": 3})
    r = run_cli(tmp_path / "run", "data=folder", f"data.root={tmp_path / 'imgs'}", "model=mlp", "data.resize=32",
                "data.crop=28", "data.num_workers=0", "data.batch_size=8")
    assert r.returncode == 0, r.stderr[-2000:]
    table = read_issue_table(tmp_path / "run" / "label_issues.csv")
    assert len(table["index"]) == 22 and (table["is_noisy"] == -1).all()  # 24 minus the 10% validation
    assert "detection quality left out" in r.stdout
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["label_issues"]["detection"] is None
    d = diagnose(tmp_path / "run")
    assert d.returncode == 0 and "ROC and precision-recall curves left out" in d.stdout
    assert (tmp_path / "run" / "plots" / "most_suspicious.png").is_file()


def test_confident_learning_flags_in_this_process_and_ranks_flagged_first(monkeypatch):
    """cleanlab's default forks a process pool, which deadlocked a test process holding torch's threads: the
    score must not start one. Flagged samples score 1 + (1 - p(y|x)), the rest 1 - p(y|x)."""
    import multiprocessing

    from noisyrobust.label_issues.refits import confident_learning_scores

    def no_pool(*args, **kwargs):
        raise AssertionError("a multiprocessing pool was started")

    monkeypatch.setattr(multiprocessing, "Pool", no_pool)
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 40)
    probs = np.full((120, 3), 0.05)
    probs[np.arange(120), labels] = 0.9
    wrong = rng.choice(120, 12, replace=False)
    probs[wrong] = 0.05
    probs[wrong, (labels[wrong] + 1) % 3] = 0.9  # confidently another class
    scores = confident_learning_scores(labels, probs)
    p_given = probs[np.arange(120), labels]
    flagged = scores >= 1
    np.testing.assert_allclose(scores, flagged + 1 - p_given)
    assert set(np.flatnonzero(flagged)) == set(wrong)
