"""data.review_file=RUN/review.csv: a later run on the same labels trains on the decisions (relabelled samples
on their new label, dropped ones not at all, indices global); a review of other data is refused in one line
before anything is written."""
import hashlib
import json

import numpy as np
import pytest
from conftest import ROOT
from review_run import finished_run, run_dir  # noqa: F401 - fixtures

from noisyrobust.errors import UserError
from noisyrobust.label_issues.table import read_issue_table
from noisyrobust.noise import labels_checksum, load_noisy_labels

# one test process trains the review tests' shared run once (review_run.finished_run)
pytestmark = pytest.mark.xdist_group("review")


def train_on(review, out, *overrides):
    from hydra import compose, initialize_config_dir
    from omegaconf import open_dict

    from noisyrobust.run import train

    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=["trainer=cpu", "trainer.max_epochs=2", "noise=sym0.4",
                                           f"data.review_file={review}", *overrides])
    with open_dict(cfg):
        cfg.paths.output_dir, cfg.paths.cache_dir = str(out), str(out.parent / "cache")
    return train(cfg)


def test_a_later_run_trains_on_the_relabelled_labels_without_the_dropped_samples(run_dir, tmp_path):
    table = read_issue_table(run_dir / "label_issues.csv")
    before = load_noisy_labels(run_dir / "noisy_labels.npz")
    i, j, k = (int(x) for x in table["index"][:3])
    new = (int(before["noisy"][i]) + 1) % 10
    review = run_dir / "review.csv"
    review.write_text(f"index,decision,label\n{i},relabel,{new}\n{j},drop,\n{k},keep,{before['noisy'][k]}\n")
    summary = train_on(review, tmp_path / "after")
    after = load_noisy_labels(tmp_path / "after" / "noisy_labels.npz")
    assert summary["review"]["checksum"] == hashlib.sha256(review.read_bytes()).hexdigest()[:16]
    assert {key: summary["review"][key] for key in ("keep", "relabel", "drop", "trained_samples")} == \
        {"keep": 1, "relabel": 1, "drop": 1, "trained_samples": 1292}
    assert summary["noise"]["checksum"] == labels_checksum(before["noisy"])  # the same draw of the noise
    want = before["noisy"].copy()
    want[i] = new
    np.testing.assert_array_equal(after["noisy"], want)  # the labels trained on
    np.testing.assert_array_equal(after["given"], before["noisy"])  # beside the ones given
    assert np.flatnonzero(after["dropped"]).tolist() == [j]
    later = read_issue_table(tmp_path / "after" / "label_issues.csv")
    assert len(later["index"]) == 1292 and j not in later["index"] and i in later["index"]  # global indices
    assert int(later["given_label"][later["index"] == i][0]) == new
    assert json.loads((tmp_path / "after" / "summary.json").read_text())["review"] == summary["review"]


@pytest.mark.parametrize("rows, overrides, message", [
    ("99999,drop,", [], "line 2: index '99999' is out of range 0..1436 of this data's training samples"),
    ("{i},relabel,12", [], "line 2: label '12' is not a class of this data (0..9)"),
    ("{i},flip,3", [], "line 2: decision 'flip' is unknown; choose from: keep, relabel, drop"),
    ("{i},drop,\n{i},keep,1", [], "line 3: index {i} is decided twice"),
    ("{i},drop,", ["noise.seed=7"], "was made on labels with checksum"),  # other labels
])
def test_a_review_of_other_data_is_refused_before_anything_is_written(run_dir, tmp_path, rows, overrides, message):
    i = int(read_issue_table(run_dir / "label_issues.csv")["index"][0])
    (run_dir / "review.csv").write_text("index,decision,label\n" + rows.format(i=i) + "\n")
    with pytest.raises(UserError, match=None) as e:
        train_on(run_dir / "review.csv", tmp_path / "after", *overrides)
    assert message.format(i=i) in str(e.value) and "\n" not in str(e.value)
    assert not (tmp_path / "after" / "noisy_labels.npz").exists() and not (tmp_path / "after" / "summary.json").exists()


def test_the_cli_refuses_a_missing_review_file_in_one_line(tmp_path):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, str(ROOT / "train.py"), "trainer=cpu", f"hydra.run.dir={tmp_path}/run",
                        f"data.review_file={tmp_path}/nowhere/review.csv"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1] == (f"error: data.review_file='{tmp_path}/nowhere/review.csv' does not "
                                                 "exist; give a review.csv written by noisyrobust review RUN "
                                                 "(RUN/review.csv)")
    assert not (tmp_path / "run").exists()  # refused before Hydra writes its files
