"""`python -m noisyrobust.report --figure NAME DIR`: the papers' figures from run directories written here in
the pipeline's own formats (summary.json, .hydra/config.yaml, metrics.csv)."""
import json
import subprocess
import sys

import yaml

from conftest import ROOT


def write_run(path, *, summary, config, metrics):
    (path / ".hydra").mkdir(parents=True)
    (path / "summary.json").write_text(json.dumps(summary))
    (path / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
    keys = sorted({k for row in metrics for k in row})
    lines = [",".join(keys)] + [",".join(str(row.get(k, "")) for k in keys) for row in metrics]
    (path / "metrics.csv").write_text("\n".join(lines) + "\n")


def report(*args):
    return subprocess.run([sys.executable, "-m", "noisyrobust.report", *args], cwd=ROOT, capture_output=True,
                          text=True)


def zhang_run(root, name, *, rate=0.0, inputs="none", fit_step=100, test=0.9, stop=True, train_acc=1.0, wd=0.0):
    curve = [{"step": s, "train/loss_step": 2.0 / (1 + s)} for s in range(0, fit_step + 1, 10)]
    write_run(root / name, summary={"noise": {"name": "uniform", "rate": rate}, "test_acc_last": test,
                                    "fit": {"step": fit_step if stop else None, "epoch": 3}, "epochs": 4},
              config={"data": {"inputs": inputs, "augment": False}, "noise": {"rate": rate},
                      "optimizer": {"weight_decay": wd}, "model": {"dropout": 0.0},
                      "callbacks": {"fit_stop": {"stop": stop}}},
              metrics=curve + [{"step": fit_step, "train/acc": train_acc}])


def test_zhang_figure_reports_steps_to_fit_and_test_error_per_corruption(tmp_path):
    for i, (rate, steps, test) in enumerate([(0.0, 100, 0.95), (0.5, 400, 0.5), (1.0, 900, 0.1)]):
        zhang_run(tmp_path, f"labels{i}", rate=rate, fit_step=steps, test=test)
    zhang_run(tmp_path, "gauss", inputs="gaussian", fit_step=300, test=0.1)
    zhang_run(tmp_path, "reg", wd=5e-4, stop=False, test=0.93, train_acc=0.99)
    result = report("--figure", "zhang", str(tmp_path))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "random labels   steps to fit 900" in out and "gaussian        steps to fit 300" in out
    assert "label corruption 0.5: steps to fit 400, test error 0.500" in out
    assert "true | none | no | yes | 0 | 99.00 | 93.00" in out  # the regularization table row
    for png in ("zhang.png", "zhang_regularization.png"):
        assert (tmp_path / "figures" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sparsity_figure_finds_the_dip_and_the_peak(tmp_path):
    tests = [0.80, 0.78, 0.72, 0.85, 0.90, 0.60]
    trains = [1.0, 1.0, 0.95, 0.85, 0.8, 0.6]
    for level, (test, train) in enumerate(zip(tests, trains)):
        write_run(tmp_path / f"level_{level:02d}",
                  summary={"noise": {"name": "uniform"}, "test_acc_last": test,
                           "prune": {"level": level, "sparsity": 1 - 0.8 ** level, "learning_distance": 1.0}},
                  config={}, metrics=[{"step": 1, "train/acc": train}])
    result = report("--figure", "sparsity", str(tmp_path))
    assert result.returncode == 0, result.stderr
    # dip at level 2 (1 - 0.8^2 = 36%), peak after it at level 4 (59.0%), train first below 100% at level 2
    assert "dip 0.720 at 36.0% sparsity; peak after it 0.900 at 59.0%; train accuracy first below 99% at 36.0%" \
        in result.stdout
    assert (tmp_path / "figures" / "sparsity.png").is_file()


def test_missing_runs_and_unknown_figures_are_one_line_errors(tmp_path):
    empty = report("--figure", "sparsity", str(tmp_path))
    assert empty.returncode != 0 and empty.stderr.strip().startswith("error: ") and "Traceback" not in empty.stderr
    assert "holds no finished pruning levels" in empty.stderr and "experiment=sparsity/digits_mlp" in empty.stderr
    unknown = report("--figure", "grokking", str(tmp_path))
    assert unknown.returncode != 0 and "--figure 'grokking' is unknown; choose from: zhang" in unknown.stderr


def test_memorize_figure_reports_fitting_and_heldout_accuracy_per_method_and_signal(tmp_path):
    def run(name, method, signal, train, held):
        write_run(tmp_path / name, summary={"method": method, "test_acc_last": held[-1]},
                  config={"data": {"inputs": "gaussian", "input_signal": signal}},
                  metrics=[{"epoch": e, "train/acc": t, "val/acc": h} for e, (t, h) in enumerate(zip(train, held))])
    run("ce", "ce", 1.0, [0.3, 0.8, 1.0], [0.3, 0.8, 0.9])
    run("mem_real", "memorize", 1.0, [0.1, 0.2, 0.3], [0.2, 0.1, 0.05])
    run("mem_noise", "memorize", 0.0, [0.2, 0.6, 0.9], [0.1, 0.1, 0.12])
    result = report("--figure", "memorize", str(tmp_path))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert ("ce        f=1     train acc last 1.000 (max 1.000), epochs to fit 1; held-out acc last 0.900 "
            "(max 0.900)") in out
    assert "memorize  f=1     train acc last 0.300 (max 0.300), epochs to fit never; held-out acc last 0.050" in out
    assert "memorize  f=0     train acc last 0.900 (max 0.900), epochs to fit 1; held-out acc last 0.120" in out
    assert (tmp_path / "figures" / "memorize.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "empty").mkdir()
    empty = report("--figure", "memorize", str(tmp_path / "empty"))
    assert empty.returncode != 0 and "holds no finished method=memorize runs" in empty.stderr
    assert "experiment=badger/digits_mlp" in empty.stderr and "Traceback" not in empty.stderr


def reinit_run(root, method, *, generation=4, epochs=10):
    write_run(root / method, summary={"noise": {"name": "sym0.4", "rate": 0.4}, "test_acc_last": 0.8,
                                      "test_acc_mean_last10": 0.79, "test_acc_mean_epochs": 10, "epochs": epochs},
              config={"trainer": {"max_epochs": epochs},
                      "callbacks": {"reinit": {"method": method, "generation": generation}}},
              metrics=[{"epoch": e, "step": 10 * e, "test/acc": 0.5 + e / 40, "mem/noisy_fit": e / 20}
                       for e in range(epochs)])


def test_reinit_figure_marks_the_generation_boundaries(tmp_path):
    from noisyrobust.figures.reinit import generation_boundaries
    from noisyrobust.figures.runs import load_runs

    for method in ("none", "shrink_perturb", "layerwise"):
        reinit_run(tmp_path, method)
    # generation 4 of 10 epochs: re-initialized at the start of epochs 4 and 8, between their evaluations
    assert generation_boundaries(load_runs(tmp_path)) == [3.5, 7.5]
    assert generation_boundaries([r for r in load_runs(tmp_path) if r.cfg("callbacks.reinit.method") == "none"]) == []
    result = report("--figure", "reinit", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "layerwise       test acc last 0.800, mean of last 10 0.790" in result.stdout
    assert (tmp_path / "figures" / "reinit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
