"""Stopping a run from outside: SIGTERM (a scheduler's pre-emption), SIGINT (Ctrl+C) and SIGUSR1 (SLURM's
warning before the time limit, ``#SBATCH --signal=USR1@90``) stop training at once and exit non-zero.

What a resume continues from is ``checkpoints/last.ckpt``, written atomically at the end of every epoch: a
consistent point, so the resumed run draws exactly what the uninterrupted one drew (a checkpoint taken in
the middle of an epoch could not promise that). The work of the interrupted epoch is redone.
The stop itself waits for the next training or evaluation batch (at most one step), so that an epoch's end
(its rows in metrics.csv, then last.ckpt: noisyrobust.checkpointing.LastCheckpoint) is never cut in two.
Under SLURM, SIGUSR1 requeues the job (``scontrol requeue``); the requeued job finds its own run directory
(named by the job id) and resumes from it by itself.
"""
import signal
import subprocess
import sys
from pathlib import Path

from lightning.pytorch import Callback

from noisyrobust.rundir import launch_rank, resume_command, slurm_job_id

SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1)


class Preempted(BaseException):
    """Raised in the main thread by the signal handler (a BaseException, so that no ``except Exception`` on
    the way swallows it); carries the signal and the run directory."""

    def __init__(self, signum: int, run_dir: Path):
        super().__init__(signal.Signals(signum).name)
        self.signum, self.run_dir = signum, run_dir


class Preemption(Callback):
    """Turns the signals above into ``Preempted`` for the whole training loop. Installed at train start,
    after Lightning's own handlers (whose SIGTERM handling stops the loop but exits 0), which it replaces
    until Lightning restores the previous handlers at teardown."""

    def __init__(self, run_dir):
        self.run_dir = Path(run_dir)
        self.trainer = None
        self.pending = None  # the signal received, raised as Preempted at the next batch

    def on_train_start(self, trainer, pl_module) -> None:
        self.trainer = trainer
        for signum in SIGNALS:
            signal.signal(signum, self._stop)

    def _stop(self, signum, frame) -> None:
        for s in SIGNALS:  # one stop: a second Ctrl+C or the scheduler's next signal does not break the shutdown
            signal.signal(s, signal.SIG_IGN)
        launcher = self.trainer.strategy.launcher if self.trainer is not None else None
        if getattr(launcher, "procs", None):  # Lightning's DDP processes started by this one get the signal too
            launcher.kill(signum)
        self.pending = signum

    def _raise_pending(self) -> None:
        if self.pending is not None:
            raise Preempted(self.pending, self.run_dir)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        self._raise_pending()

    def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        self._raise_pending()


def requeue(job_id: str) -> bool:
    """``scontrol requeue <job id>``; True when it succeeded."""
    try:
        return subprocess.run(["scontrol", "requeue", job_id], capture_output=True, text=True).returncode == 0
    except FileNotFoundError:
        return False


def handle_preemption(stop: Preempted) -> int:
    """What the process says and does after a stop (global rank 0 speaks): the requeue under SLURM after
    SIGUSR1, else the command that resumes; returns the exit status (128 + signal number)."""
    name = signal.Signals(stop.signum).name
    if launch_rank() == 0:
        last = stop.run_dir.resolve() / "checkpoints" / "last.ckpt"
        job = slurm_job_id()
        if job and stop.signum == signal.SIGUSR1:
            ok = requeue(job)
            print(f"{name}: stopped; SLURM job {job} " + ("requeued: it resumes from " + str(last) if ok
                  else "could not be requeued (scontrol failed): resume with " + resume_command(stop.run_dir, last)),
                  file=sys.stderr, flush=True)
        elif last.is_file():
            print(f"{name}: stopped; the last finished epoch is saved in {last}. Resume with:\n"
                  f"  {resume_command(stop.run_dir.resolve(), last)}", file=sys.stderr, flush=True)
        else:
            print(f"{name}: stopped before the first epoch ended; nothing to resume, run the command again",
                  file=sys.stderr, flush=True)
    return 128 + stop.signum
