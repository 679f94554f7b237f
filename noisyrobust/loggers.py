"""Logger factories for the ``logger=`` configs."""
import logging
import netrc
import os

from lightning.pytorch.loggers import WandbLogger

log = logging.getLogger(__name__)


def _has_wandb_key() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc().authenticators("api.wandb.ai") is not None
    except (FileNotFoundError, netrc.NetrcParseError):
        return False


def wandb_logger(*, project: str, save_dir: str, offline=None, **kwargs) -> WandbLogger:
    """A W&B logger that never fails a run for want of a key or a network: without an API key it logs
    offline (``wandb sync <dir>`` uploads later); with one, a failed online start falls back to offline."""
    os.makedirs(save_dir, exist_ok=True)
    if offline is None:
        offline = not _has_wandb_key()
    if offline:
        log.info("W&B: logging offline under %s (no API key or offline=true); upload with `wandb sync`", save_dir)
        return WandbLogger(project=project, save_dir=save_dir, offline=True, **kwargs)
    logger = WandbLogger(project=project, save_dir=save_dir, offline=False, **kwargs)
    try:
        logger.experiment  # start the run now, so a dead network shows here and not mid-training
    except Exception as e:  # noqa: BLE001 - wandb raises many kinds; any of them means "go offline"
        log.warning("W&B: online start failed (%s); logging offline under %s", e, save_dir)
        logger = WandbLogger(project=project, save_dir=save_dir, offline=True, **kwargs)
    return logger
