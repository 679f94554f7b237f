"""Run directories: runs launched together never share one, a directory holding a run is refused before
anything is written into it, and the launch's name part follows SLURM and torchrun."""
import csv
import os
import socket
import subprocess
import sys

import pytest
from conftest import FAST, ROOT, refused, run_api, run_cli, unwritable

from noisyrobust import rundir
from noisyrobust.errors import UserError


@pytest.mark.slow
def test_runs_launched_in_the_same_second_get_their_own_directories(tmp_path):
    args = [*FAST, "trainer.max_epochs=1", f"paths.log_dir={tmp_path / 'logs'}"]
    procs = [subprocess.Popen([sys.executable, str(ROOT / "train.py"), *args, f"seed={seed}"], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for seed in (3, 3, 4)]
    results = [(p.wait(timeout=600), p.communicate()) for p in procs]
    assert all(rc == 0 for rc, _ in results), [err[-1000:] for _, (_, err) in results]
    runs = sorted((tmp_path / "logs" / "train" / "runs").iterdir())
    assert len(runs) == 3 and sorted(r.name.endswith(s) for r, s in zip(runs, ["_s3", "_s3", "_s4"]))
    for run in runs:  # each its own complete set of files, its config saying its own seed
        assert (run / "summary.json").is_file() and (run / "noisy_labels.npz").is_file()
        assert f"seed: {run.name[-1]}" in (run / ".hydra" / "config.yaml").read_text()


def test_a_directory_holding_a_run_is_refused_before_anything_is_written(tmp_path):
    run_api(tmp_path / "run", "trainer.max_epochs=1")  # (the CLI's refusal: the two-at-once test below)
    before = {p: p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()}
    line = refused(tmp_path / "run", "trainer.max_epochs=1", "seed=5")
    assert line.startswith(f"run directory {tmp_path / 'run'} already holds a run (")
    assert line.endswith(f"resume it with ckpt_path={tmp_path / 'run' / 'checkpoints' / 'last.ckpt'}, "
                             "or choose another hydra.run.dir")
    assert {p: p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("env, stamp", [
    ({"SLURM_JOB_ID": "81"}, "slurm81"),
    ({"SLURM_JOB_ID": "90", "SLURM_ARRAY_JOB_ID": "88", "SLURM_ARRAY_TASK_ID": "2"}, "slurm88_2"),
    ({"TORCHELASTIC_RUN_ID": "exp1"}, "torchrun-exp1"),
])
def test_the_stamp_names_the_scheduler_job_so_a_requeue_finds_its_directory(monkeypatch, env, stamp):
    for var in ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "TORCHELASTIC_RUN_ID"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    monkeypatch.setattr(rundir, "_STAMP", None)
    assert rundir.run_stamp() == stamp


def test_without_a_scheduler_the_stamp_is_the_time_and_a_random_suffix_fixed_per_process(monkeypatch):
    for var in ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "TORCHELASTIC_RUN_ID"):
        monkeypatch.delenv(var, raising=False)
    stamps = set()
    for _ in range(20):
        monkeypatch.setattr(rundir, "_STAMP", None)
        stamps.add(rundir.run_stamp())
        assert rundir.run_stamp() == rundir.run_stamp()
    assert len(stamps) == 20 and all(len(s.rsplit("_", 1)[1]) == 6 for s in stamps)


def test_a_directory_in_use_by_a_running_run_is_refused_before_anything_is_written(tmp_path):
    run_dir = tmp_path / "run"
    rundir.claim_run_dir(run_dir)  # this process runs in it (as a first `python train.py` would)
    rundir._mark_holder(run_dir)
    try:
        r = run_cli(run_dir, "trainer.max_epochs=1")
    finally:
        rundir.release_run_dir(run_dir)
    lines = r.stderr.strip().splitlines()
    assert r.returncode != 0 and len(lines) == 1, r.stderr[-2000:]
    assert lines[0] == (f"error: run directory {run_dir} is in use by another run (process "
                        f"{socket.gethostname()}:{os.getpid()}); wait for it to end or choose another hydra.run.dir")
    assert sorted(p.name for p in run_dir.iterdir()) == [".lock"]  # no .hydra, no log: nothing of the refused run


def test_the_claim_is_released_at_the_end_of_the_run_and_a_refused_check_leaves_no_directory(tmp_path, fit):
    fit("trainer.max_epochs=1", "diagnostics=none", name="run")
    rundir.claim_run_dir(tmp_path / "run")  # free again: another process could take it (to resume it)
    rundir.release_run_dir(tmp_path / "run")
    with pytest.raises(UserError, match="is a directory"):
        rundir.resume_checkpoint(tmp_path / "new", tmp_path)
    assert not (tmp_path / "new").exists()


@pytest.mark.slow
def test_two_runs_started_at_once_in_one_directory_one_runs_and_the_other_is_refused(tmp_path):
    run_dir = tmp_path / "run"
    args = [*FAST, "trainer.max_epochs=2", "diagnostics=none", f"hydra.run.dir={run_dir}"]
    procs = [subprocess.Popen([sys.executable, str(ROOT / "train.py"), *args], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    results = sorted((p.wait(timeout=600), p.communicate()[1]) for p in procs)
    (ok, _), (refusal, err) = results
    assert ok == 0 and refusal != 0, results
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: run directory {run_dir} "), err[-2000:]
    with open(run_dir / "metrics.csv", newline="") as f:
        epochs = sorted(int(r["epoch"]) for r in csv.DictReader(f) if r.get("train/acc"))
    assert epochs == [0, 1]  # the run that ran has every row


def _leftovers(run_dir, metrics):
    (run_dir / ".hydra").mkdir(parents=True)
    for name in ("hparams.yaml", "noisy_labels.npz", "train.log"):
        (run_dir / name).write_text("x")
    (run_dir / "metrics.csv").write_text(metrics)


def test_the_leftovers_of_a_run_that_failed_before_its_first_epoch_do_not_block_a_rerun(tmp_path):
    _leftovers(tmp_path / "run", "epoch,noise/rate,step,train/loss_step\n0,0.4,0,\n0,,9,2.25\n")
    assert rundir.resume_checkpoint(tmp_path / "run", None) is None
    rundir.release_run_dir(tmp_path / "run")


def test_a_run_with_a_finished_epoch_blocks_a_rerun(tmp_path):
    _leftovers(tmp_path / "run", "epoch,noise/rate,step,test/acc\n0,0.4,0,\n0,,9,0.5\n")
    with pytest.raises(UserError, match="already holds a run .*it has no checkpoint to resume"):
        rundir.resume_checkpoint(tmp_path / "run", None)


def test_a_run_that_failed_in_its_first_epoch_can_be_run_again_in_its_directory(tmp_path):
    assert "training loss became NaN/inf" in refused(tmp_path / "run", "optimizer=sgd", "optimizer.lr=1e30",
                                                     "diagnostics=none")
    assert (tmp_path / "run" / "noisy_labels.npz").is_file()  # written before training failed
    run_api(tmp_path / "run", "trainer.max_epochs=1", "diagnostics=none")
    assert (tmp_path / "run" / "summary.json").is_file()

def test_an_existing_run_directory_that_cannot_be_written_is_named_in_one_line(tmp_path):
    (tmp_path / "run").mkdir()
    with unwritable(tmp_path / "run"):
        r = run_cli(tmp_path / "run", "trainer.max_epochs=1")
    lines = r.stderr.strip().splitlines()
    assert r.returncode != 0
    assert lines == [f"error: the run directory {tmp_path / 'run'} exists but cannot be written by this user; "
                     "make it writable or choose another hydra.run.dir"], r.stderr[-2000:]
    assert not any((tmp_path / "run").iterdir())


def test_a_checkpoints_folder_as_ckpt_path_suggests_the_file_inside_it(tmp_path):
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    with pytest.raises(rundir.UserError, match=f"such as {tmp_path / 'run' / 'checkpoints' / 'last.ckpt'}$"):
        rundir.resume_checkpoint(tmp_path / "new", tmp_path / "run" / "checkpoints")
    with pytest.raises(rundir.UserError, match=f"such as {tmp_path / 'run' / 'checkpoints' / 'last.ckpt'}$"):
        rundir.resume_checkpoint(tmp_path / "new", tmp_path / "run")
