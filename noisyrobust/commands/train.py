"""``python train.py <overrides>`` and ``noisyrobust train <overrides>``: one Hydra application over the config
tree (``noisyrobust.cli.CONF_DIR``), with everything Hydra's command line offers: ``-m`` sweeps, ``--help``,
``--cfg job``, and a user's own configs searched first with ``--config-dir DIR``."""
import sys
from typing import Sequence

from hydra import version
from hydra._internal.utils import _run_hydra, get_args_parser
from hydra.main import _get_rerun_conf
from omegaconf import DictConfig

from noisyrobust.cli import CONF_DIR, check_command_line
from noisyrobust.errors import UserError, find_user_error


def main(cfg: DictConfig) -> float:
    """Hydra's task: the run (or a sweep's job) of the composed config; a user's mistake exits with one line."""
    from noisyrobust.preemption import Preempted, handle_preemption
    from noisyrobust.run import runs  # after Hydra has parsed argv: --help answers without importing torch

    try:
        summary = runs(cfg)
    except Preempted as stop:  # SIGTERM / SIGINT / SIGUSR1: last.ckpt kept, the resume command printed
        sys.exit(handle_preemption(stop))
    except Exception as e:  # noqa: BLE001 - a user's mistake becomes one line; anything else propagates
        user_error = find_user_error(e)
        if user_error is None:
            raise
        from noisyrobust.rundir import discard_if_untouched

        discard_if_untouched(cfg.paths.output_dir)  # refused before the run wrote anything of its own
        sys.exit(f"error: {user_error}")
    return summary.get("test_acc_last", float("nan"))


def command(argv: Sequence[str]) -> None:
    """The command line ``argv`` (overrides and Hydra's flags): checked, then run as ``@hydra.main`` would run
    it. argv is handed to Hydra rather than read from sys.argv, so that sys.argv stays the command that started
    this process (``train.py ...`` or ``noisyrobust train ...``): Lightning's DDP launcher starts it again for
    each further process."""
    argv = list(argv)
    try:
        check_command_line(argv)
    except UserError as e:
        sys.exit(f"error: {e}")
    version.setbase("1.3")
    parser = get_args_parser()
    args = parser.parse_args(argv)
    if args.experimental_rerun is not None:
        main(_get_rerun_conf(args.experimental_rerun, args.overrides))
        return
    _run_hydra(args=args, args_parser=parser, task_function=main, config_path=str(CONF_DIR), config_name="config")
