"""The CLI a user types: `python train.py ...` in a subprocess, its output, exit code and files."""
import json
import os

import pytest
import torch
from conftest import DDP_FORK, ROOT, refused, run_cli
from method_configs import METHODS


def last_line(text):
    return [line for line in text.strip().splitlines() if line.strip()][-1]


def test_train_prints_a_short_result_and_writes_the_run_directory(tmp_path):
    r = run_cli(tmp_path / "run", "method=ce", "noise=sym0.4")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "ce on digits, noise sym0.4 (realized 0.39" in r.stdout
    assert "test accuracy %: last" in r.stdout and "at best val (epoch" in r.stdout
    assert f"run directory: {tmp_path / 'run'}" in r.stdout
    assert (tmp_path / "run" / ".hydra" / "config.yaml").is_file()
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["method"] == "ce"


def test_help_lists_every_group_and_its_options(tmp_path):
    r = run_cli(tmp_path, flags=["--help"])
    assert r.returncode == 0
    assert f"method: {', '.join(METHODS)}" in r.stdout and "method: backward, cal, ce, cores, coteaching" in r.stdout
    assert "selection: irreducible, loss, reducible_loss, uniform" in r.stdout  # RHO-LOSS's rule
    assert "noise: asym0.4, clean, human, inst0.2, inst0.4, pair0.45, random_labels, sym0.2, sym0.4, sym0.5, sym0.6, sym0.8" in r.stdout
    for group in ["data:", "model:", "optimizer:", "scheduler:", "trainer:", "logger:", "callbacks:"]:
        assert group in r.stdout


def test_cfg_job_prints_the_composed_config_with_interpolated_values(tmp_path):
    r = run_cli(tmp_path, "model=cnn_sce", "data=cifar10", flags=["--cfg", "job", "--resolve"])
    assert r.returncode == 0, r.stderr[-2000:]
    assert "_target_: noisyrobust.models.SCECNN" in r.stdout
    assert "in_channels: 3" in r.stdout and "image_size: 32" in r.stdout  # from data=cifar10, not by hand


def test_multirun_sweeps_every_combination(tmp_path):
    r = run_cli(tmp_path, "method=ce,sce", "noise=clean,pair0.45", "trainer.max_epochs=1",
                f"hydra.sweep.dir={tmp_path / 'sweep'}", flags=["-m"])
    assert r.returncode == 0, r.stderr[-2000:]
    summaries = [json.loads(p.read_text()) for p in (tmp_path / "sweep").glob("*/summary.json")]
    assert sorted((s["method"], s["noise"]["name"]) for s in summaries) == [
        ("ce", "clean"), ("ce", "pair0.45"), ("sce", "clean"), ("sce", "pair0.45")]


@pytest.mark.parametrize("args, message", [
    (["method=jocr"], f"error: unknown method 'jocr'; choose from: {', '.join(METHODS)}"),
    (["noise=sym0.4,sym9"], "error: unknown noise 'sym9'; choose from: asym0.4, clean"),
    (["noise=sym0.4", "noise.rate=1.5"], "noise.rate=1.5 is not a number in [0, 1]"),
    (["noise=asym0.4", "data.name=svhn"], "no class map for dataset 'svhn'"),
    (["model=cnn_coteaching"], "needs image_size >= 28"),
    (["ckpt_path=/nonexistent/last.ckpt"], "ckpt_path /nonexistent/last.ckpt does not exist"),
    (["trainer=ddp_cpu", "data.batch_size=127"], "data.batch_size=127 is not divisible by the 2 processes"),
    (["data=cifar10", "paths.data_dir=/nonexistent", "data.source.download=false"],
     "CIFAR-10 files missing in /nonexistent/cifar-10-batches-py (expected: data_batch_1"),
])
def test_bad_input_gets_one_line_error_and_nonzero_exit(tmp_path, args, message):
    if args[0] in ("method=jocr", "model=cnn_coteaching"):  # through the CLI: a check before Hydra, one in the run
        r = run_cli(tmp_path / "run", *args)
        assert r.returncode == 1 and "Traceback" not in r.stderr
        line = last_line(r.stderr)
        assert line.startswith("error: ")
    else:  # the same checks and run in this process (noisyrobust.train)
        line = "error: " + refused(tmp_path / "run", *args)
    assert message in line
    assert not (tmp_path / "run" / "summary.json").exists()
    assert not list(tmp_path.rglob("*.ckpt"))


def test_malformed_dataset_file_is_named_in_the_error(tmp_path):
    from formats import write_cifar10

    write_cifar10(tmp_path / "data")
    batch = tmp_path / "data" / "cifar-10-batches-py" / "data_batch_3"
    batch.write_bytes(batch.read_bytes()[:100])
    r = run_cli(tmp_path / "run", "data=cifar10", f"paths.data_dir={tmp_path / 'data'}", "data.source.download=false")
    assert r.returncode != 0 and "data_batch_3" in last_line(r.stderr)


def test_nan_loss_stops_at_its_step_and_leaves_no_checkpoint(tmp_path):
    r = run_cli(tmp_path / "run", "optimizer=sgd", "optimizer.lr=1e30")
    assert r.returncode != 0
    assert "training loss became NaN/inf at step" in last_line(r.stderr)
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_resume_refuses_a_checkpoint_of_another_model(tmp_path, fit):
    fit("trainer.max_epochs=1", name="a")
    ckpt = f"ckpt_path={tmp_path / 'a' / 'checkpoints' / 'last.ckpt'}"  # the command's checks, in this process
    assert "belongs to a different model" in refused(tmp_path / "b", "model.hidden=[64]", ckpt)
    assert "was trained on other noisy labels" in refused(tmp_path / "c", "noise=sym0.2", ckpt)


@pytest.mark.parametrize("method", ["ce", "coteaching_plus"])
def test_ddp_on_two_cpu_processes_uses_the_single_process_noisy_labels(tmp_path, fit, method):
    fit("noise=sym0.4", "trainer.max_epochs=1", "diagnostics=none", name="single")
    args = ["noise=sym0.4", "trainer=ddp_cpu", "trainer.max_epochs=2", f"method={method}",
            "method.num_gradual=1" if method != "ce" else "seed=0",
            "+callbacks.rank_metrics._target_=rank_metrics_probe.RankMetrics", f"+callbacks.rank_metrics.out={tmp_path / 'ranks'}"]
    if method == "ce":  # launched as a user launches it
        ddp = run_cli(tmp_path / "ddp", *args, env={"PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])})
        assert ddp.returncode == 0, ddp.stderr[-3000:]
        assert "sync_dist" not in ddp.stdout + ddp.stderr  # epoch-level values are reduced over the ranks
    else:  # the same two ranks forked in-process (conftest.DDP_FORK): one interpreter's imports fewer
        fit(*args, *DDP_FORK, name="ddp")
    ranks = [{k: v for k, v in json.loads((tmp_path / "ranks" / f"rank{r}.json").read_text()).items()
              if not k.endswith("_step")} for r in (0, 1)]  # a step's loss is the rank's own batch's
    assert ranks[0]["train/loss_epoch"] == ranks[1]["train/loss_epoch"]  # each rank's own loss without the reduction
    assert ranks[0] == ranks[1]
    s1 = json.loads((tmp_path / "single" / "summary.json").read_text())
    s2 = json.loads((tmp_path / "ddp" / "summary.json").read_text())
    assert s1["noise"]["checksum"] == s2["noise"]["checksum"]
    assert s2["epochs"] == 2
    # 10 global batches of 128 per epoch (1,293 training samples, drop_last): 10 optimizer steps per epoch
    ckpt = torch.load(tmp_path / "ddp" / "checkpoints" / "last.ckpt", weights_only=False)
    assert ckpt["global_step"] == 20 or method == "coteaching_plus"  # which may skip batches without disagreement
