"""The papers' figures from a folder of run directories: ``python -m noisyrobust.report --figure NAME DIR``.

Each figure is a module here with ``draw(root: Path) -> list[Path]`` (the PNGs it wrote under
``root/figures/``, and a text summary printed beside them); ``FIGURES`` names them."""
import importlib
from pathlib import Path

from noisyrobust.errors import UserError

FIGURES = ("zhang", "sparsity", "susceptibility", "slingshot", "reinit", "memorize", "arpit_first_epoch",
           "arpit_fit_time", "arpit_dropout", "code_memorization")


def draw_figure(name: str, root: Path) -> list:
    """Draw figure ``name`` from the runs under ``root``; a UserError when either is wrong."""
    if name not in FIGURES:
        raise UserError(f"--figure {name!r} is unknown; choose from: {', '.join(FIGURES)}")
    if not Path(root).is_dir():
        raise UserError(f"{root} is not a directory of runs")
    return importlib.import_module(f"noisyrobust.figures.{name}").draw(Path(root))
