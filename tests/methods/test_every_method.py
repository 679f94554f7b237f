"""One battery over every method of conf/method/ (tests/method_configs.py): a run resumed from its first
epoch ends exactly as the uninterrupted one (weights, per-sample state, metrics, label-issue table), the
label-issue table holds the method's own columns, and every hyper-parameter its constructor declares as a
number or a boolean refuses a value of another type in one line. SAM: tests/optim/test_sam_runs.py; host
sync: tests/methods/test_host_sync.py."""
import copy
import csv
import inspect

import numpy as np
import pytest
import torch
from conftest import compose_cfg, run_cli
from hydra.utils import get_class, instantiate
from method_configs import METHODS, method_config
from omegaconf import DictConfig, ListConfig, OmegaConf

from noisyrobust.errors import UserError, find_user_error
from noisyrobust.hyperparameters import declared_types, scalar_kind
from noisyrobust.label_issues.finder import FREE_SCORES
from noisyrobust.validate import check_config


def last_checkpoint(out):
    return torch.load(out / "checkpoints" / "last.ckpt", weights_only=False, map_location="cpu")


def metric_rows(out, epoch):
    return [{k: v for k, v in r.items() if v and k != "step"} for r in csv.DictReader((out / "metrics.csv").open())
            if r.get("epoch") == str(epoch)]


@pytest.mark.parametrize("method", [pytest.param(m, marks=pytest.mark.xdist_group(m)) for m in METHODS])
def test_a_run_resumed_after_its_first_epoch_ends_as_the_uninterrupted_one(method_runs, method):
    runs = method_runs(method)  # (tests/method_configs.py: train_battery) the first epoch unfused, the rest fused
    (full_summary, full), (resumed_summary, resumed) = runs["full"], runs["resumed"]
    a, b = last_checkpoint(full), last_checkpoint(resumed)
    assert a["global_step"] == b["global_step"] > 0
    for key in a["state_dict"]:
        torch.testing.assert_close(b["state_dict"][key], a["state_dict"][key], rtol=0, atol=0, msg=key)
    for name in a.get("per_sample", {}):
        torch.testing.assert_close(b["per_sample"][name], a["per_sample"][name], rtol=0, atol=0, msg=name)
    assert metric_rows(resumed, 1) == metric_rows(full, 1)  # the second epoch's metrics, every one
    for key in ("test_acc_last", "test_acc_mean_last10", "test_acc_best_test_selected"):
        assert resumed_summary[key] == full_summary[key], key
    table_a = list(csv.reader((full / "label_issues.csv").open()))
    table_b = list(csv.reader((resumed / "label_issues.csv").open()))
    assert table_a == table_b


@pytest.mark.parametrize("method", [pytest.param(m, marks=pytest.mark.xdist_group(m)) for m in METHODS])
def test_the_label_issue_table_holds_the_methods_own_columns(method_runs, method):
    summary, out = method_runs(method)["full"]
    header = next(csv.reader((out / "label_issues.csv").open()))
    scores = summary["label_issues"]["scores"]
    assert scores[:len(FREE_SCORES)] == list(FREE_SCORES)
    assert set(scores) <= set(header)
    own = scores[len(FREE_SCORES):]  # the method's label_issue_scores, oriented higher = more suspicious
    rows = list(csv.DictReader((out / "label_issues.csv").open()))
    for name in own:
        values = np.array([float(r[name]) for r in rows if r[name] not in ("", "nan")])
        assert len(values) and np.isfinite(values).all(), name


def numeric_hyperparameters(method):
    """(key, declared type) of every scalar of the method's config its constructor declares as a number or
    a boolean."""
    node = method_config(method).method
    types = declared_types(get_class(node._target_))
    for key in node:
        kind = scalar_kind(types.get(key))
        if kind is not None and not isinstance(node.get(key), (DictConfig, ListConfig)):
            yield key, kind


CASES = [(m, key, kind) for m in METHODS for key, kind in numeric_hyperparameters(m)]


def test_every_method_declares_its_hyperparameters():
    assert {m for m, _, _ in CASES} >= {m for m in METHODS if m not in ("ce", "sce")}  # ce/sce: a loss only
    assert all(inspect.isclass(get_class(method_config(m).method._target_)) for m in METHODS)


@pytest.mark.parametrize("method, key, kind", CASES, ids=[f"{m}-{k}" for m, k, _ in CASES])
def test_a_hyperparameter_of_another_type_is_refused_naming_it(method, key, kind):
    for bad in (["maybe"] if kind is bool else ["abc", float("nan")]):  # as Hydra parses `abc`, `nan`
        cfg = copy.deepcopy(method_config(method))  # composed once per method
        OmegaConf.update(cfg, f"method.{key}", bad)
        with pytest.raises(UserError) as e:
            check_config(cfg, gpu_available=False)
        assert str(e.value).startswith(f"method.{key}=") and str(bad) in str(e.value)


def test_through_the_cli_a_bad_hyperparameter_is_one_line_before_anything_is_written(tmp_path):
    r = run_cli(tmp_path / "run", "method=dividemix", "method.lambda_u=abc")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1] == "error: method.lambda_u='abc' is not a number"
    assert not (tmp_path / "run" / "noisy_labels.npz").exists()


@pytest.mark.parametrize("method, override, message", [
    ("gce_truncated", "method.prune_start=-3", "method.prune_start=-3 counts epochs or steps: use an integer >= 0"),
    ("dividemix", "method.warmup_epochs=2", "method.warmup_epochs=2 leaves no epoch after the warm-up"),
    ("dividemix", "method.warmup_epochs=1 method.ramp_epochs=0", "method.ramp_epochs=0 must be > 0"),
])
def test_counts_and_warmups_outside_their_meaning_are_refused(tmp_path, method, override, message):
    cfg = compose_cfg(tmp_path, f"method={method}", *override.split())
    with pytest.raises(Exception) as e:  # the config's checks, else the constructor's
        check_config(cfg, gpu_available=False)
        instantiate(cfg.method)
    assert message in str(find_user_error(e.value))
