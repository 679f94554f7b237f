"""`python -m noisyrobust.report --figure arpit_*`: Arpit et al. 2017's figures from small real runs of the
experiments on the digits (1-3 epochs), their printed numbers recomputed here from the runs' files."""
import csv
import json
import shutil
from math import comb

import numpy as np
import pytest
from omegaconf import OmegaConf

from conftest import compose_cfg
from test_figures import report


def real_run(root, name, *overrides):
    """One run of the real pipeline, with the composed config where Hydra writes it (.hydra/config.yaml)."""
    from noisyrobust.run import train
    out = root / name
    cfg = compose_cfg(out, *overrides)
    train(cfg)
    (out / ".hydra").mkdir()
    OmegaConf.save(cfg, out / ".hydra" / "config.yaml")
    return out


def binomial_cdf(k, n, p):
    return sum(comb(n, j) * p ** j * (1 - p) ** (n - j) for j in range(k + 1))


def test_first_epoch_figure_reports_each_kinds_spread_against_the_binomial(tmp_path):
    runs = {"real data": [], "random labels": []}
    for seed in range(2):
        for kind, rate in (("real data", 0.0), ("random labels", 1.0)):
            runs[kind].append(real_run(tmp_path, f"{kind[:4]}{seed}", "experiment=arpit/first_epoch",
                                       "trainer.max_epochs=1", f"noise.rate={rate}", f"seed={seed}"))
    result = report("--figure", "arpit_first_epoch", str(tmp_path))
    assert result.returncode == 0, result.stderr
    for kind, dirs in runs.items():
        correct = np.stack([np.load(d / "training_set_fit.npz")["correct"][0] for d in dirs])
        rates = (~correct).mean(0)
        p, seeds = rates.mean(), 2
        dispersion = rates.var() / (p * (1 - p) / seeds)
        empirical = [(rates <= k / seeds + 1e-9).mean() for k in range(seeds + 1)]
        ks = max(abs(e - binomial_cdf(k, seeds, p)) for k, e in enumerate(empirical))
        assert (f"{kind:23s} 2 seeds x 1437 examples: mean {p:.3f}, std {rates.std():.3f} (binomial "
                f"{np.sqrt(p * (1 - p) / seeds):.3f}), dispersion {dispersion:.2f}, KS to binomial {ks:.3f}") \
            in result.stdout
    assert (tmp_path / "figures" / "arpit_first_epoch.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_first_epoch_figure_refuses_seeds_trained_on_different_labels_or_one_seed(tmp_path):
    for seed in range(2):  # the labels follow each run's seed: the rates would mix two datasets
        real_run(tmp_path / "drift", f"s{seed}", "experiment=arpit/first_epoch", "trainer.max_epochs=1",
                 "noise.rate=1.0", f"seed={seed}", f"noise.seed={seed}")
    result = report("--figure", "arpit_first_epoch", str(tmp_path / "drift"))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (f"error: the random labels runs under {tmp_path / 'drift'} were trained on "
                                     "different labels or inputs (the noise followed each run's seed); the "
                                     "experiment fixes them with noise.seed=0")
    shutil.copytree(tmp_path / "drift" / "s0", tmp_path / "one" / "s0")
    result = report("--figure", "arpit_first_epoch", str(tmp_path / "one"))
    assert result.returncode != 0 and "holds one random labels run; the per-example rates need several seeds" \
        in result.stderr


def test_fit_time_figure_reports_epochs_to_fit_per_width_and_noise(tmp_path):
    dirs = {}
    for width, rate in ((32, 0.0), (32, 1.0), (128, 0.0)):
        dirs[(width, rate)] = real_run(tmp_path, f"w{width}r{rate}", "experiment=arpit/fit_time",
                                       "trainer.max_epochs=3", f"model.hidden=[{width}]", f"noise.rate={rate}",
                                       "callbacks.fit_stop.threshold=0.9")
    result = report("--figure", "arpit_fit_time", str(tmp_path))
    assert result.returncode == 0, result.stderr
    for (width, rate), d in dirs.items():
        accs = [float(r["train/acc"]) for r in csv.DictReader((d / "metrics.csv").open()) if r.get("train/acc")]
        fitted = next((i + 1 for i, a in enumerate(accs) if a >= 0.9), None)
        shown = fitted or f"not fitted in {len(accs)} (train acc {100 * accs[-1]:.1f}%)"
        test = json.loads((d / "summary.json").read_text())["test_acc_last"]
        assert (f"width {width:>8} noise {rate:.2f}: epochs to fit {shown}; "
                f"test acc {100 * test:.1f}%") in result.stdout
    # real labels fit (90%) within 3 epochs at lr 0.05; random labels do not
    assert "width       32 noise 1.00: epochs to fit not fitted in 3 (train acc" in result.stdout
    assert "width      128 noise 0.00: epochs to fit not fitted" not in result.stdout
    assert (tmp_path / "figures" / "arpit_fit_time.png").is_file()


def test_dropout_figure_reports_the_fit_of_wrong_and_clean_labels_and_test_accuracy(tmp_path):
    dirs = {p: real_run(tmp_path, f"p{p}", "experiment=arpit/dropout", "trainer.max_epochs=2", "model.hidden=[64]",
                        "noise.rate=0.4", f"model.dropout={p}") for p in (0.0, 0.5)}
    result = report("--figure", "arpit_dropout", str(tmp_path))
    assert result.returncode == 0, result.stderr
    for p, d in dirs.items():
        fitted = np.load(d / "training_set_fit.npz")
        labels = np.load(d / "noisy_labels.npz")
        index, correct = fitted["index"], fitted["correct"][-1]
        wrong = labels["clean"][index] != labels["noisy"][index]
        accs = [float(r["test/acc"]) for r in csv.DictReader((d / "metrics.csv").open()) if r.get("test/acc")]
        assert (f"noise 0.40 dropout {p:.2f}: fit of wrong labels {100 * correct[wrong].mean():.1f}%, of clean "
                f"labels {100 * correct[~wrong].mean():.1f}%, test acc {100 * accs[-1]:.1f}% (mean of last 10 "
                f"epochs {100 * np.mean(accs[-10:]):.1f}%)") in result.stdout
    assert (tmp_path / "figures" / "arpit_dropout.png").is_file()


@pytest.mark.parametrize("name,what", [("arpit_first_epoch", "experiment=arpit/first_epoch"),
                                       ("arpit_fit_time", "experiment=arpit/fit_time"),
                                       ("arpit_dropout", "experiment=arpit/dropout")])
def test_a_folder_without_the_runs_is_a_one_line_error(tmp_path, name, what):
    result = report("--figure", name, str(tmp_path))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {tmp_path} holds no finished") and what in lines[0]
