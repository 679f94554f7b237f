"""Command-line checks that run before Hydra composes anything, and where the config tree lives."""
import re
import shutil
from pathlib import Path
from typing import Sequence

from noisyrobust.errors import UserError


def find_config_dir() -> Path:
    """The config tree: ``noisyrobust/conf`` inside an installed package (the wheel ships the repository's
    ``conf/`` there: setup.py), else the checkout's ``conf/`` beside the package."""
    package = Path(__file__).resolve().parent
    installed = package / "conf"
    return installed if (installed / "config.yaml").is_file() else package.parent / "conf"


CONF_DIR = find_config_dir()
SLURM_LAUNCHER = "hydra/launcher=slurm"
_SWEEP_FUNCTIONS = ("glob(", "choice(", "range(", "interval(", "tag(", "sort(", "shuffle(")
_CONFIG_DIR_FLAGS = ("--config-dir", "-cd")


def user_config_dir(argv: Sequence[str]):
    """The directory of Hydra's ``--config-dir DIR`` (``-cd DIR``, ``--config-dir=DIR``) in argv, or None."""
    for i, arg in enumerate(argv):
        flag, eq, value = arg.partition("=")
        if flag in _CONFIG_DIR_FLAGS:
            if eq:
                return Path(value).expanduser()
            return Path(argv[i + 1]).expanduser() if i + 1 < len(argv) else None
    return None


def config_dirs(argv: Sequence[str], conf_dir: Path = CONF_DIR) -> list:
    """Where Hydra looks for configs: a user's ``--config-dir`` first (its files win), then the package's."""
    user = user_config_dir(argv)
    if user is not None and not user.is_dir():
        raise UserError(f"--config-dir {user} is not a directory")
    return [user.resolve(), conf_dir] if user is not None else [conf_dir]


def group_options(conf_dirs, group: str) -> list:
    """The options of config group ``group`` found in any of ``conf_dirs`` (a Path or a list of them)."""
    roots = [Path(d) / group for d in ([conf_dirs] if isinstance(conf_dirs, (str, Path)) else conf_dirs)]
    return sorted({str(p.relative_to(root).with_suffix("")) for root in roots if root.is_dir() for p in root.rglob("*.yaml")})


def check_group_choices(argv: Sequence[str], conf_dir: Path = CONF_DIR) -> None:
    """Raise a UserError naming an unknown ``group=option`` (sweeps ``a,b`` too) and the valid options (a
    user's ``--config-dir`` included); Hydra's own message spans many lines."""
    dirs = config_dirs(argv, conf_dir)
    for arg in argv:
        if arg.startswith("-") or "=" not in arg:
            continue
        key, value = arg.split("=", 1)
        group = key.lstrip("+~")
        if not group or "." in group or group.startswith("hydra/") or not any((d / group).is_dir() for d in dirs) \
                or value.startswith(_SWEEP_FUNCTIONS):  # hydra/launcher etc. also offer the plugins' options
            continue
        options = group_options(dirs, group)
        for choice in value.strip("[]").split(","):  # a list (callbacks=[default,susceptibility]) merges options
            if choice.strip() not in options and choice.strip() != "null":
                raise UserError(f"unknown {group} '{choice}'; choose from: {', '.join(options)}")


def check_overrides(argv: Sequence[str], conf_dir: Path = CONF_DIR) -> None:
    """Compose the config of argv's overrides (sweeps left out) and raise a UserError with one line where
    Hydra's message spans several: a key that does not exist, a ``+key`` that does. Anything else is left to
    Hydra's run."""
    from hydra import compose, initialize_config_dir
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import ConfigCompositionException

    dirs = config_dirs(argv, conf_dir)
    args = [a for a in argv if not a.startswith("-") and "=" in a and not a.lstrip("+~").startswith("hydra")]
    message = None
    try:
        overrides = [o.input_line for o in OverridesParser.create().parse_overrides(args) if not o.is_sweep_override()]
        search_path = [f"hydra.searchpath=[file://{dirs[0]}]"] if len(dirs) > 1 else []
        with initialize_config_dir(str(dirs[-1]), version_base="1.3"):
            compose("config", overrides=[*search_path, *overrides])
    except ConfigCompositionException as e:
        unknown = re.match(r"Could not override '(.+)'\.", str(e))
        if unknown:
            key = unknown.group(1)
            message = (f"unknown config key '{key}'; `python train.py --cfg job` lists the keys "
                       f"(+{key}=VALUE adds a new one)")
        else:
            message = " ".join(str(e).split())
    except Exception:  # noqa: BLE001 - a malformed override: Hydra's own parse error names it
        return
    if message:
        raise UserError(message)


def check_launcher(argv: Sequence[str]) -> None:
    """A SLURM sweep where sbatch is missing: one line (submitit's error spans 25)."""
    if SLURM_LAUNCHER in argv and {"-m", "--multirun"} & set(argv) and shutil.which("sbatch") is None:
        raise UserError("hydra/launcher=slurm submits each run with sbatch, which is not on PATH here; run it on "
                        "the cluster's login node (`python -m noisyrobust.slurm_script <overrides>` prints the job "
                        "script)")


def check_command_line(argv: Sequence[str]) -> None:
    """Every check above, in order: what ``python train.py`` / ``noisyrobust train`` refuse before Hydra runs."""
    check_group_choices(argv)
    check_overrides(argv)
    check_launcher(argv)
