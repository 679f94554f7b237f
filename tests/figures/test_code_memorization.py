"""experiment=code_memorization/* (Rabin et al. 2022) end to end on a tiny tree of Python source: the runs, the
corpus in summary.json, the label-issue report's text lines, `report --figure code_memorization`, and the
methods that need more of token data than a plain batch (mixup, a strong view, instance-dependent noise)."""
import csv

import numpy as np
import pytest
from omegaconf import OmegaConf
from python_source import write_python_source
from test_figures import report

from conftest import compose_cfg

TINY = ["data.top_k=3", "data.max_length=40", "data.vocab_size=100", "data.test_fraction=0.25", "data.batch_size=16",
        "trainer.max_epochs=2"]


def tiny_data(tmp_path):
    root = tmp_path / "lib"
    if not root.exists():
        write_python_source(root)
    return [f"data.root={root}", f"data.data_dir={tmp_path / 'data'}", *TINY]


def run(tmp_path, name, *overrides):
    from noisyrobust.run import train
    out = tmp_path / "runs" / name
    cfg = compose_cfg(out, *tiny_data(tmp_path), *overrides)
    summary = train(cfg)
    (out / ".hydra").mkdir()
    OmegaConf.save(cfg, out / ".hydra" / "config.yaml")
    return summary, out


def epoch_values(out, key):
    rows = [r for r in csv.DictReader((out / "metrics.csv").open()) if r.get(key)]
    return [float(r[key]) for r in rows]


def test_noise_sweep_runs_and_the_figure_reports_each_runs_accuracies(tmp_path):
    outs = {}
    for model, rate in (("bag_of_tokens", 0.0), ("bag_of_tokens", 0.5), ("token_transformer", 0.5)):
        summary, outs[model, rate] = run(tmp_path, f"{model}{rate}", f"experiment=code_memorization/{model}",
                                         f"noise.rate={rate}", *TINY)
        assert summary["corpus"]["samples"] == 144 and summary["corpus"]["classes"] == ["close", "read", "write"]
        assert summary["data"] == "python_names" and summary["noise"]["rate"] == rate
    with np.load(outs["bag_of_tokens", 0.5] / "per_sample.npz") as f, \
            np.load(outs["bag_of_tokens", 0.5] / "noisy_labels.npz") as labels:
        loss = f["loss"][-2:]
        noisy = labels["clean"] != labels["noisy"]
    seen = np.isfinite(loss).all(0)
    clean_median, noisy_median = np.median(loss.mean(0)[seen & ~noisy]), np.median(loss.mean(0)[seen & noisy])

    result = report("--figure", "code_memorization", str(tmp_path / "runs"))
    assert result.returncode == 0, result.stderr
    for (model, rate), out in outs.items():
        train, test = epoch_values(out, "train/acc"), epoch_values(out, "test/acc")
        fit = next((i for i, v in enumerate(train) if v >= 0.95), None)
        name = {"bag_of_tokens": "BagOfTokens", "token_transformer": "TokenTransformer"}[model]
        assert (f"  {name:16s} ce         rate {rate:.2f}: train acc last {train[-1]:.3f} (best {max(train):.3f}), "
                f"test acc last {test[-1]:.3f} (best {max(test):.3f}); epochs to fit "
                f"{fit if fit is not None else 'never'} of 2") in result.stdout
    assert (f"  BagOfTokens at 50%: late per-sample loss median clean {clean_median:.3g}, noisy {noisy_median:.3g}"
            in result.stdout)
    assert (tmp_path / "runs" / "figures" / "code_memorization.png").read_bytes()[:4] == b"\x89PNG"

    from noisyrobust.diagnose import write_plots
    written, _ = write_plots(outs["token_transformer", 0.5])
    assert outs["token_transformer", 0.5] / "plots" / "most_suspicious.png" in written


@pytest.mark.parametrize("method, noise", [("dividemix", "sym0.4"), ("sop_plus", "sym0.4"), ("ce", "inst0.4")])
def test_methods_that_mix_augment_or_read_features_run_on_token_data(tmp_path, method, noise):
    summary, _ = run(tmp_path, method, "data=python_names", "model=token_transformer", f"method={method}",
                     f"noise={noise}", *(["method.warmup_epochs=1"] if method == "dividemix" else []))
    assert 0.0 <= summary["test_acc_last"] <= 1.0 and summary["epochs"] == 2
    assert summary["noise"]["realized_rate"] > 0.2
