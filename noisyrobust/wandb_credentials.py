"""Whether W&B may go online: an API key, and no ``WANDB_MODE=offline``. Imports neither torch nor Lightning,
so the commands that only talk to W&B answer at once."""
import netrc
import os
from urllib.parse import urlparse

OFFLINE_MODES = ("offline", "dryrun")  # W&B's names for "never touch the network"


def has_wandb_key() -> bool:
    """``WANDB_API_KEY``, or a `wandb login` entry in ~/.netrc for the W&B server in use."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    import wandb

    hosts = {"api.wandb.ai", urlparse(os.environ.get("WANDB_BASE_URL") or wandb.Settings().base_url).hostname}
    try:
        logins = netrc.netrc()
    except (FileNotFoundError, netrc.NetrcParseError):
        return False
    return any(logins.authenticators(host) for host in hosts)


def offline_by_environment() -> bool:
    """``WANDB_MODE=offline`` (or ``dryrun``): the user asked for no network attempt."""
    return os.environ.get("WANDB_MODE", "").strip().lower() in OFFLINE_MODES
