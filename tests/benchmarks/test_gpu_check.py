"""benchmarks/gpu_check.py --smoke: the GPU check's own code on the CPU at tiny sizes, so that it cannot rot
before a GPU is lent; the JSON's fields checked against the runs it made, and the table against the JSON."""
import contextlib
import io
import json
import sys
import time
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
import gpu_check  # noqa: E402

# one test process trains the module's shared run once (xdist would run its fixture in each)
pytestmark = pytest.mark.xdist_group("gpu_check")

METHODS = sorted(p.stem for p in (ROOT / "conf" / "method").glob("*.yaml"))


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu_check") / "out"
    compile_before = torch.compile
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = gpu_check.main([str(out), "--smoke"])
    assert torch.compile is compile_before  # the smoke's aot_eager backend does not outlive its run
    return code, out, json.loads((out / "gpu_check.json").read_text()), printed.getvalue()


def test_the_smoke_run_passes_and_prints_the_table_it_writes(smoke):
    code, out, report, printed = smoke
    assert code == 0 and report["smoke"] and report["passed"]
    table = (out / "gpu_check.md").read_text()
    assert table == gpu_check.table(report) and printed.endswith(table + "\n")
    assert "**Smoke run**" in table and "## CUDA-only tests" in table and "## DivideMix / CE" in table


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a GPU they run instead")
def test_every_methods_host_sync_test_is_selected_and_skips_on_the_cpu(smoke):
    _, out, report, _ = smoke
    tests = report["parts"]["cuda_tests"]
    assert tests["status"] == "skipped: no CUDA device"
    assert tests["passed"] == tests["failed"] == tests["error"] == 0 and tests["skipped"] > len(METHODS)
    assert tests["host_sync_by_method"] == {m: "skipped" for m in METHODS}
    assert "tests/test_gpu.py" in tests["files"] and "tests/methods/test_host_sync.py" in tests["files"]
    lines = (out / "cuda_tests.txt").read_text().splitlines()
    assert len(lines) == tests["skipped"] and all(line.endswith(" skipped") for line in lines)


def test_jocor_rows_time_the_protocol_with_each_switch(smoke):
    _, out, report, _ = smoke
    speed = report["parts"]["jocor_speed"]
    assert speed["protocol"] == "experiment=jocor/cifar10_sym50" and speed["protocol_epochs"] == 200
    rows = {r["variant"]: r for r in speed["variants"]}
    expected = {"bf16", "fp32", "bf16 + compile"} | ({"bf16, fused_steps=1"} if speed["fused_steps_key"] else set())
    assert set(rows) == expected
    if not speed["fused_steps_key"]:
        assert "fused_steps" in speed["note"]
    assert "trainer.precision=bf16-mixed" in rows["bf16"]["overrides"]
    assert rows["fp32"]["overrides"][-1] == "trainer.precision=32-true"
    assert rows["bf16 + compile"]["overrides"][-1] == "model.compile=true"
    for name, row in rows.items():
        assert row["status"] == "ok" and row["epochs_done"] == 2 == len(row["test_acc"]), name
        assert row["epoch_s"] == pytest.approx(row["train_s"] + row["eval_s"])
        assert row["projected_s"] == pytest.approx(200 * row["epoch_s"] + max(row["first_epoch_s"] - row["epoch_s"], 0))
        assert row["images_per_s"] == pytest.approx(5 * 40 / row["train_s"])  # 200 images, batch 40
        assert json.loads((out / "runs" / row["run"] / "summary.json").read_text())["epochs"] == 2
    summary = json.loads((out / "runs" / "jocor-bf16" / "summary.json").read_text())
    assert summary["method"] == "JoCoR" and summary["data"] == "cifar10"
    assert summary["test_acc_last"] == rows["bf16"]["test_acc"][-1]
    assert speed["goal"]["projected_s"] == min(r["projected_s"] for r in rows.values()) and speed["goal"]["met"] is None
    assert report["parts"]["accuracy"]["curve"] == rows["bf16"]["test_acc"]
    assert report["parts"]["accuracy"]["passed"] is None  # smoke sizes are not judged


def test_dividemix_ratio_is_of_the_two_runs_training_epochs(smoke):
    _, out, report, _ = smoke
    part = report["parts"]["dividemix"]
    assert part["ce"]["status"] == part["dividemix"]["status"] == "ok"
    assert part["ratio"] == pytest.approx(part["dividemix"]["train_s"] / part["ce"]["train_s"])
    assert json.loads((out / "runs" / "dividemix-cifar10" / "summary.json").read_text())["method"] == "DivideMix"


def test_a_part_past_its_limit_is_stopped_not_waited_for():
    start = time.monotonic()
    with pytest.raises(gpu_check.OutOfBudget, match="0 s limit"), gpu_check.hard_limit(0.2):
        time.sleep(5)
    assert time.monotonic() - start < 2


BAD = [
    (lambda d: d.write_text("x"), ["--smoke"], "is a file; give a directory"),
    (lambda d: (d.mkdir(), (d / "gpu_check.json").write_text("{}")), ["--smoke"], "exists; give a new OUTDIR"),
    (lambda d: None, ["--smoke", "--data", "/nonexistent"], "holds no cifar-10-batches-py/"),
] + ([] if torch.cuda.is_available() else [(lambda d: None, [], "no CUDA device is visible to PyTorch")])


@pytest.mark.parametrize("make, args, message", BAD)
def test_bad_input_gets_one_line_before_anything_is_written(tmp_path, make, args, message):
    out = tmp_path / "out"
    make(out)
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(SystemExit) as exit_:
        gpu_check.main([str(out), *args])
    assert str(exit_.value).startswith("error: ") and message in str(exit_.value) and "\n" not in str(exit_.value)
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize("curve, verdict", [
    ([0.3] * 19 + [0.65], True),  # 20 epochs, the last one above 60%
    ([0.7] * 19 + [0.55], False),  # the last one is judged, not the best
    ([0.7] * 14, None),  # stopped before the plateau the bound is derived for
])
def test_the_accuracy_bound_judges_the_last_epoch_from_epoch_15(curve, verdict):
    result = gpu_check.accuracy(gpu_check.FULL, {"test_acc": curve})
    assert result["passed"] is verdict and result["test_acc"] == curve[-1] and result["bound"] == 0.60
