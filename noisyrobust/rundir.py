"""Run directories that never mix two runs: a unique name per launch, a refusal to reuse a directory that
holds another run, and the resume that continues a run in its own directory (SLURM requeue included)."""
import csv
import fcntl
import logging
import os
import secrets
import shlex
import shutil
import socket
import sys
import time
from pathlib import Path
from typing import Optional

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from noisyrobust.errors import UserError
from noisyrobust.files import atomic_write
from noisyrobust.validate import check_config

log = logging.getLogger(__name__)
LOCK = ".lock"  # held (flock) by the process that runs in the directory, for the run's life
# what Hydra itself writes into a run directory before the run starts: not a sign of an earlier run
_HYDRA_OWN = (".hydra", ".submitit", LOCK)
_STAMP: Optional[str] = None
_CLAIMS: dict = {}  # run directory -> its open lock file, for the directories this process runs in


def slurm_job_id() -> Optional[str]:
    """This SLURM job's id (``<array job>_<task>`` in an array), the same after a requeue; None outside SLURM."""
    array_job = os.environ.get("SLURM_ARRAY_JOB_ID")
    if array_job and os.environ.get("SLURM_ARRAY_TASK_ID"):
        return f"{array_job}_{os.environ['SLURM_ARRAY_TASK_ID']}"
    return os.environ.get("SLURM_JOB_ID") or None


def torchrun_id() -> Optional[str]:
    """torchrun's ``--rdzv-id`` (one per launch, shared by all its processes); None when not given."""
    run_id = os.environ.get("TORCHELASTIC_RUN_ID")
    return run_id if run_id and run_id != "none" else None


def run_stamp() -> str:
    """The launch's part of a run directory's name: ``slurm<job id>``, ``torchrun-<rdzv id>``, else the
    time and 6 random hex digits (drawn once per process), so that runs started in the same second differ."""
    global _STAMP
    if _STAMP is None:
        if slurm_job_id():
            _STAMP = f"slurm{slurm_job_id()}"
        elif torchrun_id():
            _STAMP = f"torchrun-{torchrun_id()}"
        else:
            _STAMP = f"{time.strftime('%Y-%m-%d_%H-%M-%S')}_{secrets.token_hex(3)}"
    return _STAMP


def new_run_stamp() -> None:
    """A new launch in this process (``noisyrobust.train`` called again): the next ``run_stamp()`` draws anew."""
    global _STAMP
    _STAMP = None


def launch_rank() -> int:
    """The global rank a launcher gave this process (torchrun, SLURM, Lightning's DDP children); 0 if none."""
    for var in ("RANK", "SLURM_PROCID", "LOCAL_RANK"):
        if os.environ.get(var, "0") != "0":
            return int(os.environ[var])
    return 0


def hydra_output_subdir() -> Optional[str]:
    """Hydra's config record from the first process only (the others would write the same files)."""
    return ".hydra" if launch_rank() == 0 else None


def earlier_run_files(run_dir: Path) -> list:
    """The files of an earlier run that a new run must not overwrite: everything beyond Hydra's record
    (config, logs), if that run finished an epoch (``holds_trained_epoch``); none otherwise — a run that
    failed before its first epoch ended leaves only what a rerun writes again (config, noisy labels)."""
    if not run_dir.is_dir() or not holds_trained_epoch(run_dir):
        return []
    return sorted(p.name for p in run_dir.iterdir() if p.name not in _HYDRA_OWN and not p.name.endswith(".log"))


def holds_trained_epoch(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds results of training: a summary, a checkpoint, or an epoch-level value in
    ``metrics.csv`` (anything beside the step-level ``*_step`` values and the run-level ``noise/rate``)."""
    if (run_dir / "summary.json").exists() or any((run_dir / "checkpoints").glob("*.ckpt")):
        return True
    metrics = run_dir / "metrics.csv"
    if not metrics.is_file():
        return False
    with open(metrics, newline="") as f:
        return any(v for row in csv.DictReader(f) for k, v in row.items()
                   if k and k not in ("epoch", "step", "noise/rate") and not k.endswith("_step"))


def claim_run_dir(run_dir: Path) -> None:
    """Make ``run_dir`` this process's (creating it): an exclusive ``flock`` on ``run_dir/.lock``, held until
    ``release_run_dir`` or the process ends (a crash or SIGKILL included: the kernel drops it). A second
    process asking for the directory meanwhile is refused at once; checking the directory's files after
    taking the lock makes the check and the claim one step. Idempotent within a process."""
    run_dir = Path(run_dir).resolve()
    if run_dir in _CLAIMS:
        return
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        lock = open(run_dir / LOCK, "a+")
    except OSError as e:
        raise UserError(f"cannot create the run directory {run_dir} ({e.strerror}); choose a writable "
                        "hydra.run.dir or paths.log_dir") from None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.seek(0)
        holder = lock.read().strip()
        lock.close()
        raise UserError(f"run directory {run_dir} is in use by another run{f' (process {holder})' if holder else ''}; "
                        "wait for it to end or choose another hydra.run.dir") from None
    _CLAIMS[run_dir] = lock


def release_run_dir(run_dir: Path) -> None:
    """Give up the claim of ``claim_run_dir`` (the run is over); nothing if this process holds none."""
    lock = _CLAIMS.pop(Path(run_dir).resolve(), None)
    if lock is not None:
        lock.close()  # closing the file drops the flock


def discard_if_untouched(run_dir: Path) -> None:
    """After a refusal inside the run (a method's own check of its values, say): remove ``run_dir`` if it
    holds only what Hydra and the claim wrote before those checks (``.hydra/``, ``train.log``, ``.lock``), so
    that a refused run leaves no directory behind; a directory holding anything else is left as it is."""
    run_dir = Path(run_dir)
    if run_dir.is_dir() and {p.name for p in run_dir.iterdir()} <= {".hydra", "train.log", LOCK}:
        release_run_dir(run_dir)
        shutil.rmtree(run_dir, ignore_errors=True)


def _mark_holder(run_dir: Path) -> None:
    """Write who holds the lock into it, for the message a second run gets (only once the run is accepted:
    a refused run changes nothing in the directory)."""
    lock = _CLAIMS.get(Path(run_dir).resolve())
    if lock is not None:
        lock.seek(0)
        lock.truncate()
        lock.write(f"{socket.gethostname()}:{os.getpid()}\n")
        lock.flush()


def resume_checkpoint(run_dir: Path, ckpt_path, *, announce: bool = True) -> Optional[Path]:
    """The checkpoint this run resumes from, after claiming ``run_dir`` (``claim_run_dir``; the first process
    of a launch only) and checking that it may write into it: an explicit ``ckpt_path`` (a file), or — for a
    requeued SLURM job, whose directory is named by its job id — ``run_dir/checkpoints/last.ckpt``. A
    directory holding another run is refused unless the run resumed is that one. ``announce``: log a
    requeued job's resume (the run does; the pre-run check does not)."""
    run_dir = Path(run_dir).resolve()
    existed = run_dir.exists()
    if launch_rank() == 0:  # the others see the first's files and share its claim
        claim_run_dir(run_dir)
    try:
        resume = _resume_checkpoint(run_dir, ckpt_path, announce)
    except UserError:
        release_run_dir(run_dir)
        if not existed:  # a refused run leaves nothing behind
            (run_dir / LOCK).unlink(missing_ok=True)
            run_dir.rmdir()
        raise
    _mark_holder(run_dir)
    return resume


def _resume_checkpoint(run_dir: Path, ckpt_path, announce: bool) -> Optional[Path]:
    earlier = earlier_run_files(run_dir) if launch_rank() == 0 else []
    last = run_dir / "checkpoints" / "last.ckpt"
    if ckpt_path:
        path = Path(str(ckpt_path)).expanduser().resolve()
        if path.is_dir():  # a run directory, or its checkpoints/ folder
            example = path / "last.ckpt" if path.name == "checkpoints" else path / "checkpoints" / "last.ckpt"
            raise UserError(f"ckpt_path={ckpt_path} is a directory; give a checkpoint file such as {example}")
        if earlier and not path.is_relative_to(run_dir):
            raise UserError(f"run directory {run_dir} already holds another run ({', '.join(earlier[:4])}); "
                            f"resuming {path} writes into a new directory: drop hydra.run.dir")
        return path
    if slurm_job_id() and last.is_file() and not (run_dir / "summary.json").exists():
        if announce:
            log.info("SLURM job %s restarted: resuming from %s", slurm_job_id(), last)
        return last
    if earlier:
        hint = f"resume it with ckpt_path={last}" if last.is_file() else "it has no checkpoint to resume"
        raise UserError(f"run directory {run_dir} already holds a run ({', '.join(earlier[:4])}); {hint}, "
                        "or choose another hydra.run.dir")
    return None


class RunDirCheck(Callback):
    """Hydra callback, before Hydra writes anything: the config checks (noisyrobust/validate.py), then a run
    directory that holds another run, is in use by a running one or cannot be created is refused."""

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        explicit_dir = any(o.startswith("hydra.run.dir=") for o in config.hydra.overrides.hydra)
        if int(os.environ.get("WORLD_SIZE", "1")) > 1 and "TORCHELASTIC_RUN_ID" in os.environ \
                and not torchrun_id() and not explicit_dir:
            sys.exit("error: torchrun started several processes without --rdzv-id: give --rdzv-id=NAME (or "
                     "hydra.run.dir=DIR) so that they all write into one run directory")
        try:
            check_config(config)
            if launch_rank() != 0:
                return
            from hydra.core.hydra_config import HydraConfig

            HydraConfig.instance().set_config(config)  # what run_job does next, so ${hydra:...} resolves
            run_dir = Path(OmegaConf.select(config, "hydra.run.dir"))
            if run_dir.is_dir() and not os.access(run_dir, os.W_OK | os.X_OK):  # else Hydra's logging fails
                raise UserError(f"the run directory {run_dir} exists but cannot be written by this user; make it "
                                "writable or choose another hydra.run.dir")
            # claims the directory (created here: Hydra's next step, failing here in one line) for the run
            resume_checkpoint(run_dir, config.get("ckpt_path"), announce=False)  # the run says it once
        except UserError as e:
            sys.exit(f"error: {e}")


def resume_command(run_dir: Path, ckpt: Path) -> str:
    """The command that continues this run in its own directory from ``ckpt``."""
    from hydra.core.hydra_config import HydraConfig

    overrides = []
    if HydraConfig.initialized():
        overrides = [o for o in HydraConfig.get().overrides.task if not o.startswith(("ckpt_path=", "hydra.run.dir="))]
    args = [*overrides, f"hydra.run.dir={run_dir}", f"ckpt_path={ckpt}"]
    return " ".join(["python", "train.py", *map(shlex.quote, args)])


def keep_metrics_before(run_dir: Path, ckpt: Path, loggers) -> None:
    """Resuming in a run's own directory: its ``metrics.csv`` keeps the rows of the epochs the checkpoint
    holds (Lightning's CSV logger would delete them) and drops those of an interrupted later epoch and the
    run-level rows the resumed run logs again, so the file reads as one continuous run."""
    from lightning.pytorch.loggers import CSVLogger
    import torch

    metrics = Path(run_dir) / "metrics.csv"
    if not metrics.is_file() or not Path(ckpt).resolve().is_relative_to(Path(run_dir).resolve()):
        return
    done = torch.load(ckpt, map_location="cpu", weights_only=False)["epoch"]  # the last completed epoch
    with open(metrics, newline="") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        rows = [r for r in reader if r.get("epoch") and _int(r["epoch"]) is not None and _int(r["epoch"]) <= done]
    for logger in loggers:
        if isinstance(logger, CSVLogger) and Path(logger.log_dir).resolve() == Path(run_dir).resolve():
            writer = logger.experiment  # created now: it deletes metrics.csv
            writer.metrics_keys = sorted(header)
            with atomic_write(metrics, "w") as f:
                out = csv.DictWriter(f, fieldnames=writer.metrics_keys)
                out.writeheader()
                out.writerows(rows)


def _int(text: str) -> Optional[int]:
    try:
        return int(float(text))
    except ValueError:
        return None
