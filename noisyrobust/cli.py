"""Command-line checks that run before Hydra composes anything."""
import re
import shutil
import sys
from pathlib import Path
from typing import Sequence

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"
SLURM_LAUNCHER = "hydra/launcher=slurm"
_SWEEP_FUNCTIONS = ("glob(", "choice(", "range(", "interval(", "tag(", "sort(", "shuffle(")


def group_options(conf_dir: Path, group: str) -> list:
    root = conf_dir / group
    return sorted(str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.yaml"))


def check_group_choices(argv: list, conf_dir: Path = CONF_DIR) -> None:
    """Exit with one line naming an unknown ``group=option`` (sweeps ``a,b`` too) and the valid options;
    Hydra's own message spans many lines."""
    for arg in argv:
        if arg.startswith("-") or "=" not in arg:
            continue
        key, value = arg.split("=", 1)
        group = key.lstrip("+~")
        if not group or "." in group or group.startswith("hydra/") or not (conf_dir / group).is_dir() \
                or value.startswith(_SWEEP_FUNCTIONS):  # hydra/launcher etc. also offer the plugins' options
            continue
        options = group_options(conf_dir, group)
        for choice in value.strip("[]").split(","):  # a list (callbacks=[default,susceptibility]) merges options
            if choice.strip() not in options and choice.strip() != "null":
                sys.exit(f"error: unknown {group} '{choice}'; choose from: {', '.join(options)}")


def check_overrides(argv: list, conf_dir: Path = CONF_DIR) -> None:
    """Compose the config of argv's overrides (sweeps left out) and exit with one line where Hydra's message
    spans several: a key that does not exist, a ``+key`` that does. Anything else is left to Hydra's run."""
    from hydra import compose, initialize_config_dir
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import ConfigCompositionException

    args = [a for a in argv if not a.startswith("-") and "=" in a and not a.lstrip("+~").startswith("hydra")]
    try:
        overrides = [o.input_line for o in OverridesParser.create().parse_overrides(args) if not o.is_sweep_override()]
        with initialize_config_dir(str(conf_dir), version_base="1.3"):
            compose("config", overrides=overrides)
    except ConfigCompositionException as e:
        unknown = re.match(r"Could not override '(.+)'\.", str(e))
        if unknown:
            key = unknown.group(1)
            sys.exit(f"error: unknown config key '{key}'; `python train.py --cfg job` lists the keys "
                     f"(+{key}=VALUE adds a new one)")
        sys.exit("error: " + " ".join(str(e).split()))
    except Exception:  # noqa: BLE001 - a malformed override: Hydra's own parse error names it
        return


def check_launcher(argv: Sequence[str]) -> None:
    """A SLURM sweep where sbatch is missing: exit with one line (submitit's error spans 25)."""
    if SLURM_LAUNCHER in argv and {"-m", "--multirun"} & set(argv) and shutil.which("sbatch") is None:
        sys.exit("error: hydra/launcher=slurm submits each run with sbatch, which is not on PATH here; run it on "
                 "the cluster's login node (`python -m noisyrobust.slurm_script <overrides>` prints the job script)")
