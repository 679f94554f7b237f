"""The ``noisyrobust`` command: one entry point for training and for reading finished runs. Each subcommand's
module is imported only when it runs, so ``noisyrobust --help`` answers without importing the training stack."""
import importlib
import sys
from typing import Optional, Sequence

# name: (module:function taking the remaining argv, its arguments, what it does)
COMMANDS = {
    "train": ("noisyrobust.commands.train:command", "OVERRIDES",
              "train: noisyrobust train method=jocor noise=sym0.4 (-m sweeps, --config-dir DIR, --help)"),
    "diagnose": ("noisyrobust.diagnose:main", "RUN", "plots of a run's label-issue report"),
    "report": ("noisyrobust.report:main", "DIR", "one table of the runs under DIR, mean ± std over seeds"),
    "review": ("noisyrobust.review:main", "RUN", "review a run's most suspicious labels in the browser"),
    "dashboard": ("noisyrobust.dashboard:main", "--project P", "a W&B report of the runs (--dry-run prints it)"),
}


def usage() -> str:
    width = max(len(f"{name} {args}") for name, (_, args, _) in COMMANDS.items())
    lines = [f"  {f'{name} {args}':<{width}}  {what}" for name, (_, args, what) in COMMANDS.items()]
    return "\n".join(["usage: noisyrobust COMMAND [ARGS]   (noisyrobust COMMAND --help for its options)", "", *lines])


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    if argv[0] == "--version":
        from noisyrobust import __version__
        print(f"noisyrobust {__version__}")
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"error: unknown command '{name}'; choose from: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    module_name, function = COMMANDS[name][0].split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name != module_name:
            raise
        print(f"error: `noisyrobust {name}` is not part of this installation (no module {module_name})",
              file=sys.stderr)
        return 2
    status = getattr(module, function)(rest)
    return status if isinstance(status, int) else 0
