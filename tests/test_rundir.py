"""Run directories: runs launched together never share one, a directory holding a run is refused before
anything is written into it, and the launch's name part follows SLURM and torchrun."""
import subprocess
import sys

import pytest
from conftest import FAST, ROOT, run_cli, unwritable

from noisyrobust import rundir


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
    first = run_cli(tmp_path / "run", "trainer.max_epochs=1")
    assert first.returncode == 0, first.stderr[-2000:]
    before = {p: p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()}
    again = run_cli(tmp_path / "run", "trainer.max_epochs=1", "seed=5")
    assert again.returncode != 0
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: run directory {tmp_path / 'run'} already holds a run (")
    assert lines[0].endswith(f"resume it with ckpt_path={tmp_path / 'run' / 'checkpoints' / 'last.ckpt'}, "
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
