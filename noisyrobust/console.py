"""What a run prints: each line once, and none of the libraries' per-run banners or deprecation notices."""
import logging
import warnings

_BANNERS = ("💡 Tip:",)  # Lightning's advertisement for LitLogger, printed by every Trainer


def _not_a_banner(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith(_BANNERS)


def quiet_libraries() -> None:
    """Lightning's INFO lines once: its own console handler goes when the root logger (Hydra's: console and
    the run's log file) already prints them. Library banners and deprecation warnings are dropped: a user
    running training can do nothing about them. Idempotent."""
    lightning = logging.getLogger("lightning")
    if logging.getLogger().handlers:
        for handler in [h for h in lightning.handlers if type(h) is logging.StreamHandler]:
            lightning.removeHandler(handler)
    rank_zero = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    if _not_a_banner not in rank_zero.filters:
        rank_zero.addFilter(_not_a_banner)
    logging.getLogger("matplotlib").setLevel(logging.WARNING)  # "generated new fontManager" on a fresh home
    for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category)
