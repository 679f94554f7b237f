"""The Python API, for notebooks: ``train(overrides)`` runs exactly what ``noisyrobust train <overrides>`` runs
(the same checks, the same Hydra composition, run directory, ``.hydra/`` record and log file) and returns the
finished ``Run``; ``load_run(directory)`` reads one. Nothing global is left behind (Hydra's state, the logging
handlers), so a notebook may train again; a user's mistake raises one ``UserError`` whose message is the
line the command prints after ``error:``.

    >>> from noisyrobust import train, load_run
    >>> run = train(["method=jocor", "noise=sym0.4"])
    >>> run.summary["test_acc_last"], run.label_issues.head()
"""
import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

from noisyrobust.cli import CONF_DIR, check_command_line
from noisyrobust.errors import UserError, find_user_error
from noisyrobust.rundir import new_run_stamp


@dataclass(frozen=True)
class Run:
    """A finished run: its directory, ``summary.json`` as a dict, ``metrics.csv`` and ``label_issues.csv`` as
    pandas DataFrames (``label_issues`` None with ``diagnostics=none``), and the PNG plots under ``plots/``
    (``draw_plots()`` or ``noisyrobust diagnose RUN`` draws them)."""

    directory: Path
    summary: dict
    metrics: "pandas.DataFrame"  # noqa: F821 - pandas is imported when a run is read
    label_issues: Optional["pandas.DataFrame"]  # noqa: F821

    @property
    def plots(self) -> list:
        return sorted((self.directory / "plots").glob("*.png"))

    def draw_plots(self) -> list:
        """Draw the label-issue plots (what ``noisyrobust diagnose RUN`` draws); returns their paths."""
        from noisyrobust.diagnose import write_plots

        written, _left_out = write_plots(self.directory)
        return [Path(p) for p in written]

    def __repr__(self) -> str:
        s = self.summary
        return (f"Run({str(self.directory)!r}, method={s.get('method')!r}, data={s.get('data')!r}, "
                f"test_acc_last={s.get('test_acc_last')!r})")


def load_run(directory: Union[str, Path]) -> Run:
    """The finished run in ``directory`` (a UserError if it holds no readable ``summary.json``)."""
    import pandas as pd

    directory = Path(directory).expanduser().resolve()
    try:
        summary = json.loads((directory / "summary.json").read_text())
    except (OSError, ValueError) as e:
        raise UserError(f"{directory} is not a finished run: its summary.json cannot be read ({e.__class__.__name__})") from None
    metrics = pd.read_csv(directory / "metrics.csv") if (directory / "metrics.csv").is_file() else pd.DataFrame()
    issues = directory / "label_issues.csv"
    return Run(directory, summary, metrics, pd.read_csv(issues) if issues.is_file() else None)


def train(overrides: Sequence[str] = (), *, config_dir: Union[str, Path, None] = None) -> Run:
    """Train one run of ``overrides`` (``noisyrobust train``'s, e.g. ``["method=jocor", "noise=sym0.4"]``), with
    a user's configs searched first in ``config_dir`` (``--config-dir``); returns the finished ``Run``."""
    overrides = [str(o) for o in overrides]
    flags = [o for o in overrides if o.startswith("-")]
    if flags:
        raise UserError(f"train() takes overrides, not the flag {flags[0]}: config_dir= is --config-dir, and a "
                        "sweep (-m) runs with `noisyrobust train -m ...`")
    check_command_line([*overrides, *(["--config-dir", str(config_dir)] if config_dir is not None else [])])
    outcome = {}

    def task(cfg) -> None:
        from noisyrobust.run import runs

        outcome["directory"] = Path(cfg.paths.output_dir)
        try:
            runs(cfg)
        except Exception as e:  # noqa: BLE001 - raised below, once Hydra has finished the job
            outcome["error"] = e

    new_run_stamp()  # each call is a launch of its own: a run directory of its own
    with _hydra_app(config_dir) as hydra:
        hydra.run(config_name="config", task_function=task, overrides=overrides)
    if "error" in outcome:
        user_error = find_user_error(outcome["error"])
        if user_error is None:
            raise outcome["error"]
        from noisyrobust.rundir import discard_if_untouched

        discard_if_untouched(outcome["directory"])  # refused before the run wrote anything of its own
        raise UserError(str(user_error)) from None
    return load_run(outcome["directory"])


@contextmanager
def _hydra_app(config_dir):
    """Hydra set up as ``noisyrobust train`` sets it up (job name train, the config tree, a user's directory
    first); afterwards its global state and the logging it configured are taken down again. Hydra's own errors
    (a config that does not compose) and the lines its callbacks exit with become a UserError."""
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_automatic_config_search_path
    from hydra.core.config_search_path import SearchPathQuery
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    search_path = create_automatic_config_search_path(None, None, str(CONF_DIR))
    if config_dir is not None:
        search_path.prepend(provider="command-line", path=f"file://{Path(config_dir).expanduser().resolve()}",
                            anchor=SearchPathQuery(provider="schema"))
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield Hydra.create_main_hydra2(task_name="train", config_search_path=search_path)
    except (HydraException, OmegaConfBaseException) as e:
        raise UserError(" ".join(str(e).split())) from None
    except SystemExit as e:  # Hydra's callbacks (noisyrobust.rundir.RunDirCheck) exit with the command's line
        if isinstance(e.code, str) and e.code.startswith("error: "):
            raise UserError(e.code[len("error: "):]) from None
        raise
    finally:
        GlobalHydra.instance().clear()
        HydraConfig.instance().cfg = None
        for handler in root.handlers:
            if handler not in handlers:
                handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)
