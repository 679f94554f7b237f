"""Signals sent to a real `python train.py`: SIGTERM / SIGINT stop it with a non-zero exit, last.ckpt kept and
the command that resumes printed; that command continues the run in its own directory so that metrics.csv
reads like the uninterrupted run's. Under SLURM (the variables a real allocation sets, a fake `scontrol` on
PATH), SIGUSR1 requeues the job and the requeued job resumes by itself."""
import csv
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import FAST, ROOT

EPOCHS = ["trainer.max_epochs=12", "noise=sym0.4"]


def start(args, env=None):
    return subprocess.Popen([sys.executable, str(ROOT / "train.py"), *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})


def stop_after_first_epoch(proc, run_dir, signum):
    """Send ``signum`` once an epoch has ended (last.ckpt exists); the process's (rc, stdout, stderr)."""
    last = run_dir / "checkpoints" / "last.ckpt"
    deadline = time.time() + 300
    while not last.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out, err


def epoch_rows(path):
    """metrics.csv's rows, each as a sorted tuple of its non-empty fields (order of rows ignored)."""
    with open(path, newline="") as f:
        return sorted(tuple(sorted((k, v) for k, v in row.items() if v != "")) for row in csv.DictReader(f))


def test_sigterm_saves_prints_the_resume_command_and_the_resumed_run_is_the_uninterrupted_one(tmp_path, fit):
    run_dir = tmp_path / "run"
    proc = start([*FAST, f"hydra.run.dir={run_dir}", f"paths.cache_dir={tmp_path / 'cache'}", *EPOCHS])
    rc, out, err = stop_after_first_epoch(proc, run_dir, signal.SIGTERM)
    assert rc == 128 + signal.SIGTERM, err[-2000:]
    assert not (run_dir / "summary.json").exists()
    assert "SIGTERM: stopped; the last finished epoch is saved in" in err
    command = err.split("Resume with:\n", 1)[1].strip().splitlines()[0].strip()
    assert command.startswith("python train.py ") and f"ckpt_path={run_dir}/checkpoints/last.ckpt" in command
    resumed = subprocess.run([sys.executable, *shlex.split(command)[1:]], cwd=ROOT, capture_output=True, text=True,
                             timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    fit(*EPOCHS, name="full")  # the uninterrupted run, in-process
    assert epoch_rows(run_dir / "metrics.csv") == epoch_rows(tmp_path / "full" / "metrics.csv")
    summary = json.loads((run_dir / "summary.json").read_text())
    best = torch.load(run_dir / "checkpoints" / "best.ckpt", weights_only=False)
    assert best["epoch"] == summary["best_val_epoch"]  # best.ckpt is the epoch the summary calls best


def test_sigint_stops_with_a_nonzero_exit_and_keeps_last_ckpt(tmp_path):
    run_dir = tmp_path / "run"
    proc = start([*FAST, f"hydra.run.dir={run_dir}", f"paths.cache_dir={tmp_path / 'cache'}", *EPOCHS])
    rc, out, err = stop_after_first_epoch(proc, run_dir, signal.SIGINT)
    assert rc == 128 + signal.SIGINT and "SIGINT: stopped" in err and "Traceback" not in err
    assert (run_dir / "checkpoints" / "last.ckpt").is_file() and not (run_dir / "summary.json").exists()


def slurm_env(tmp_path, job_id="4242", restarts=0):
    """What a one-task SLURM allocation sets, and a `scontrol` that records its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    scontrol = bin_dir / "scontrol"
    scontrol.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "scontrol_calls"}\n')
    scontrol.chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}", "SLURM_JOB_ID": job_id, "SLURM_JOB_NAME": "train",
            "SLURM_NTASKS": "1", "SLURM_NTASKS_PER_NODE": "1", "SLURM_NNODES": "1", "SLURM_PROCID": "0",
            "SLURM_LOCALID": "0", "SLURM_NODEID": "0", "SLURM_NODELIST": "localhost",
            "SLURM_RESTART_COUNT": str(restarts)}


def test_slurm_sigusr1_requeues_and_the_requeued_job_resumes_in_its_own_directory(tmp_path):
    args = [*FAST, f"paths.log_dir={tmp_path / 'logs'}", *EPOCHS]  # the run directory is named by the job id
    run_dir = tmp_path / "logs" / "train" / "runs" / "slurm4242_ce_sym0.4_s0"
    rc, out, err = stop_after_first_epoch(start(args, slurm_env(tmp_path)), run_dir, signal.SIGUSR1)
    assert rc == 128 + signal.SIGUSR1, err[-2000:]
    assert (tmp_path / "scontrol_calls").read_text() == "requeue 4242\n"
    assert "SLURM job 4242 requeued: it resumes from" in err
    assert (run_dir / "checkpoints" / "last.ckpt").is_file() and not (run_dir / "summary.json").exists()

    requeued = subprocess.run([sys.executable, str(ROOT / "train.py"), *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=600, env={**os.environ, **slurm_env(tmp_path, restarts=1)})
    assert requeued.returncode == 0, requeued.stderr[-2000:]
    assert (requeued.stdout + requeued.stderr).count("SLURM job 4242 restarted: resuming from") == 1  # said once
    with open(run_dir / "metrics.csv", newline="") as f:
        epochs = [int(r["epoch"]) for r in csv.DictReader(f) if r.get("test/acc")]
    assert epochs == list(range(12))  # every epoch once: those before the requeue kept, none twice


@pytest.mark.slow
def test_sigterm_to_a_ddp_run_stops_its_other_process_too(tmp_path):
    run_dir = tmp_path / "run"
    proc = start([*FAST, "trainer=ddp_cpu", f"hydra.run.dir={run_dir}", f"paths.cache_dir={tmp_path / 'cache'}",
                  *EPOCHS])
    rc, out, err = stop_after_first_epoch(proc, run_dir, signal.SIGTERM)
    assert rc == 128 + signal.SIGTERM and "Resume with:" in err, err[-2000:]
    time.sleep(2)
    left = [p for p in os.listdir("/proc") if p.isdigit() and str(run_dir).encode() in _cmdline(p)]
    assert left == []  # Lightning's second process got the signal and ended as well


def _cmdline(pid: str) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def test_the_stop_waits_for_the_next_batch(tmp_path, monkeypatch):
    """Lightning writes last.ckpt before the epoch's training metrics are logged: a stop raised inside the
    handler could fall in between (a checkpoint whose epoch has no metrics row), so it waits for a batch."""
    from noisyrobust.preemption import Preempted, Preemption
    monkeypatch.setattr(signal, "signal", lambda *a: None)  # the test process keeps its own handlers
    stop = Preemption(tmp_path)
    stop._stop(signal.SIGTERM, None)  # returns: whatever was running (a checkpoint write) completes
    with pytest.raises(Preempted) as raised:
        stop.on_validation_batch_start(None, None, None, 0)
    assert raised.value.signum == signal.SIGTERM and raised.value.run_dir == tmp_path
    with pytest.raises(Preempted):
        stop.on_train_batch_start(None, None, None, 0)
    Preemption(tmp_path).on_train_batch_start(None, None, None, 0)  # no signal: nothing raised


def test_last_ckpt_is_written_only_once_its_epochs_rows_are_in_metrics_csv(fit, monkeypatch):
    """What a SIGKILL right after a checkpoint write would leave: at every write of last.ckpt, metrics.csv
    already holds the training row (train/acc, mem/*, train/loss_epoch) of the epoch the checkpoint says is done."""
    from noisyrobust.checkpointing import AtomicCheckpointIO
    seen = []
    save = AtomicCheckpointIO.save_checkpoint

    def save_and_look(self, checkpoint, path, storage_options=None):
        save(self, checkpoint, path, storage_options)
        path = Path(path)
        if path.name == "last.ckpt":
            with open(path.parent.parent / "metrics.csv", newline="") as f:
                trained = {int(r["epoch"]) for r in csv.DictReader(f) if r.get("train/acc")}
            seen.append((checkpoint["epoch"], trained))

    monkeypatch.setattr(AtomicCheckpointIO, "save_checkpoint", save_and_look)
    fit("trainer.max_epochs=3", "diagnostics=none")
    assert [epoch for epoch, _ in seen] == [0, 1, 2]
    assert all(trained == set(range(epoch + 1)) for epoch, trained in seen), seen


def test_sigkill_right_after_a_checkpoint_loses_no_row_and_the_resume_continues(tmp_path):
    run_dir = tmp_path / "run"
    args = [*FAST, f"hydra.run.dir={run_dir}", f"paths.cache_dir={tmp_path / 'cache'}", "trainer.max_epochs=3",
            "diagnostics=none"]
    proc = start(args)
    rc, _, err = stop_after_first_epoch(proc, run_dir, signal.SIGKILL)
    assert rc == -signal.SIGKILL, err[-2000:]
    done = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)["epoch"]
    resumed = subprocess.run([sys.executable, str(ROOT / "train.py"), *args,
                              f"ckpt_path={run_dir / 'checkpoints' / 'last.ckpt'}"], cwd=ROOT, capture_output=True,
                             text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    with open(run_dir / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(int(r["epoch"]) for r in rows if r.get("train/acc")) == [0, 1, 2], done  # each once
    assert sorted(int(r["epoch"]) for r in rows if r.get("test/acc")) == [0, 1, 2]
