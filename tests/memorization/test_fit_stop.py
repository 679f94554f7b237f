"""The fit-step recorder (Zhang et al.'s time to fit) and the input corruptions, through the real pipeline."""
import csv
import json

import numpy as np

from conftest import run_cli


def test_fit_stop_records_the_first_fitted_epoch_and_stops_there(fit):
    summary, out = fit("noise=clean", "model.hidden=[512]", "optimizer.lr=0.01", "trainer.max_epochs=60",
                       "callbacks.fit_stop.stop=true", "diagnostics=none")
    rows = [r for r in csv.DictReader((out / "metrics.csv").open()) if r.get("train/acc")]
    accs = [float(r["train/acc"]) for r in rows]
    first = next(i for i, a in enumerate(accs) if a >= 1.0)
    # 1,293 training digits, batch 128, drop_last: 10 steps per epoch
    assert summary["fit"] == {"step": 10 * (first + 1), "epoch": first, "threshold": 1.0, "stopped": True}
    assert len(accs) == first + 1 < 60 and summary["epochs"] == first + 1  # stopped at the fitted epoch
    assert max(accs[:first]) < 1.0


def test_gaussian_inputs_run_end_to_end_and_are_saved_with_the_run(tmp_path):
    out = tmp_path / "run"
    result = run_cli(out, "data.inputs=random_pixels", "noise=uniform", "noise.rate=0.5", "diagnostics=none",
                     "trainer.max_epochs=1")
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    record = np.load(out / "inputs.npz")
    assert summary["inputs"]["kind"] == "random_pixels" == str(record["kind"])
    assert summary["inputs"]["checksum"] == str(record["checksum"]) and summary["noise"]["rate"] == 0.5
    assert 0.4 < summary["noise"]["realized_rate"] < 0.5  # uniform at 0.5 over 10 classes: 0.45 expected


def test_input_corruption_of_files_is_one_line_error(tmp_path):
    result = run_cli(tmp_path / "run", "data=clothing1m", f"data.root={tmp_path}", "data.inputs=gaussian",
                     "callbacks=last_only")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("error: data.inputs=gaussian needs image tensors")
    assert "Traceback" not in result.stderr
