"""The Python API: noisyrobust.train runs what `noisyrobust train` runs, twice in one process, and returns
the run; load_run reads it back; a user's mistake is one UserError carrying the command's line."""
import json
import logging

import numpy as np
import pandas as pd
import pytest
from conftest import FAST
from method_configs import METHODS

from noisyrobust import Run, load_run, train
from noisyrobust.errors import UserError


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # runs land in ./logs, as from the command line
    return tmp_path


def test_two_runs_in_one_process_return_their_runs_and_leave_no_global_state(in_tmp):
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig

    handlers = list(logging.getLogger().handlers)
    first = train(["method=jocor", "noise=sym0.4", *FAST])
    assert not GlobalHydra.instance().is_initialized() and not HydraConfig.initialized()
    assert logging.getLogger().handlers == handlers
    mine = in_tmp / "my_conf" / "experiment"
    mine.mkdir(parents=True)
    (mine / "mine.yaml").write_text("# @package _global_\ndefaults:\n  - override /method: ce\n  - override /noise: sym0.4\n")
    second = train(["experiment=mine", *FAST], config_dir=in_tmp / "my_conf")  # noisyrobust train --config-dir
    assert first.directory != second.directory
    assert first.directory.parent == second.directory.parent == in_tmp / "logs" / "train" / "runs"

    for run, method in ((first, "jocor"), (second, "ce")):
        assert isinstance(run, Run) and run.summary == json.loads((run.directory / "summary.json").read_text())
        assert run.summary["method"] == method and run.summary["noise"]["name"] == "sym0.4"
        # what Hydra's run writes for the command line: the config record and the job's log
        assert (run.directory / ".hydra" / "config.yaml").is_file() and (run.directory / "train.log").is_file()
        assert isinstance(run.metrics, pd.DataFrame) and run.metrics["epoch"].max() == 1
        assert run.metrics["test/acc"].dropna().iloc[-1] == pytest.approx(run.summary["test_acc_last"])
        labels = np.load(run.directory / "noisy_labels.npz")
        issues = run.label_issues
        assert issues["index"].is_unique and issues["index"].between(0, len(labels["noisy"]) - 1).all()
        assert len(issues) > 0.8 * len(labels["noisy"])  # a row per training sample (the validation split apart)
        assert (issues["given_label"].to_numpy() == labels["noisy"][issues["index"]]).all()
        assert (issues["is_noisy"].to_numpy() == (labels["noisy"] != labels["clean"])[issues["index"]]).all()
        assert run.plots == []  # drawn on demand

    again = load_run(str(first.directory))
    assert again.summary == first.summary and again.metrics.equals(first.metrics)
    assert again.label_issues.equals(first.label_issues)


@pytest.mark.parametrize("overrides, line", [
    (["method=jocr"], f"unknown method 'jocr'; choose from: {', '.join(METHODS)}"),
    (["optimizer.lrr=3"], "unknown config key 'optimizer.lrr'; "),
    (["noise=sym0.4", "noise.rate=1.5"], "noise.rate=1.5 is not a number in [0, 1]"),  # the run's own checks
    (["-m", "method=ce,sce"], "train() takes overrides, not the flag -m"),
])
def test_a_bad_override_raises_one_user_error_with_the_commands_line(in_tmp, overrides, line):
    with pytest.raises(UserError) as raised:
        train([*FAST, *overrides])
    assert str(raised.value).startswith(line) and "\n" not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__ in (True, False)
    assert not list(in_tmp.rglob("summary.json"))


def test_a_run_time_user_error_is_raised_without_the_chain_behind_it(in_tmp):
    with pytest.raises(UserError, match="needs image_size >= 28") as raised:
        train([*FAST, "model=cnn_coteaching"])
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    assert not list(in_tmp.rglob("summary.json"))


def test_load_run_of_a_folder_that_is_no_run_says_so(tmp_path):
    with pytest.raises(UserError, match="is not a finished run: its summary.json cannot be read"):
        load_run(tmp_path)
