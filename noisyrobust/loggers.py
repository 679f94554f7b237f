"""Logger factories for the ``logger=`` configs, and what a run sends to W&B beside its metrics."""
import csv
import itertools
import logging
import os
from pathlib import Path

from lightning.pytorch.loggers import WandbLogger

from noisyrobust.wandb_credentials import has_wandb_key, offline_by_environment

log = logging.getLogger(__name__)


def _wandb(*, project: str, save_dir: str, offline: bool, init_timeout: float, **kwargs) -> WandbLogger:
    import wandb

    # the mode goes to wandb.init itself: after a failed online start, W&B ignores a changed WANDB_MODE;
    # quiet: no history sparklines and summary at the end of every run, in every log file
    logger = WandbLogger(project=project, save_dir=save_dir, offline=offline, mode="offline" if offline else "online",
                         settings=wandb.Settings(init_timeout=init_timeout, quiet=True), **kwargs)
    logger._wandb_init.pop("anonymous", None)  # Lightning always passes it; W&B warns that it has no effect
    return logger


def wandb_logger(*, project: str, save_dir: str, offline=None, init_timeout: float = 30.0, **kwargs) -> WandbLogger:
    """A W&B logger that never fails or stalls a run for want of a key or a network: without an API key, or with
    ``WANDB_MODE=offline``, it logs offline at once (``wandb sync <dir>`` uploads later); with a key, the online
    start waits at most ``init_timeout`` seconds (plus W&B's own 10 s of grace), then the run logs offline and
    goes on. ``offline`` true/false overrides both."""
    os.makedirs(save_dir, exist_ok=True)
    if offline is None:
        offline = offline_by_environment() or not has_wandb_key()
    if offline:
        log.info("W&B: logging offline (WANDB_MODE=offline, no API key, or offline=true); upload later with "
                 "`wandb sync %s/wandb/offline-run-*`", save_dir)
        return _wandb(project=project, save_dir=save_dir, offline=True, init_timeout=init_timeout, **kwargs)
    logger = _wandb(project=project, save_dir=save_dir, offline=False, init_timeout=init_timeout, **kwargs)
    log.info("W&B: starting the online run (waiting at most %gs)", init_timeout)
    try:
        logger.experiment  # start the run now, so a dead network shows here and not mid-training
        return logger
    except Exception as e:  # noqa: BLE001 - wandb raises many kinds; any of them means "go offline"
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        log.warning("W&B: online start failed (%s); logging offline, upload later with "
                    "`wandb sync %s/wandb/offline-run-*`", reason, save_dir)
    return _wandb(project=project, save_dir=save_dir, offline=True, init_timeout=init_timeout, **kwargs)


def _cell(value: str):
    """A CSV cell as a number where it is one, so that the W&B table sorts by score; empty (an unknown
    ``is_noisy``) as missing."""
    if value == "":
        return None
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value


def log_plots(run_dir, loggers, *, top: int = 100) -> None:
    """Send a run's label-issue report to W&B: every PNG under ``run_dir/plots/`` as an image (keyed by
    its path there, ``plots/roc`` for ``plots/roc.png``) and the first ``top`` rows of
    ``run_dir/label_issues.csv`` (the most suspicious labels) as a table. Does nothing without a WandbLogger."""
    wandb_loggers = [lg for lg in loggers if isinstance(lg, WandbLogger)]
    if not wandb_loggers:
        return
    import wandb

    run_dir = Path(run_dir)
    media = {f"plots/{png.relative_to(run_dir / 'plots').with_suffix('').as_posix()}": wandb.Image(str(png))
             for png in sorted((run_dir / "plots").rglob("*.png"))}
    table = run_dir / "label_issues.csv"
    if table.is_file():
        with table.open(newline="") as f:
            rows = csv.reader(f)
            header = next(rows, None)
            top_rows = [[_cell(c) for c in row] for row in itertools.islice(rows, top)]
        if header:
            media["label_issues"] = wandb.Table(columns=header, data=top_rows, allow_mixed_types=True)
    if media:
        for logger in wandb_loggers:
            logger.experiment.log(media)
