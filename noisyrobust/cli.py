"""Command-line checks that run before Hydra composes anything."""
import sys
from pathlib import Path

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"
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
        if not group or "." in group or not (conf_dir / group).is_dir() or value.startswith(_SWEEP_FUNCTIONS):
            continue
        options = group_options(conf_dir, group)
        for choice in value.strip("[]").split(","):  # a list (callbacks=[default,susceptibility]) merges options
            if choice.strip() not in options and choice.strip() != "null":
                sys.exit(f"error: unknown {group} '{choice}'; choose from: {', '.join(options)}")
