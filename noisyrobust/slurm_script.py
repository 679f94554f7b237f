"""The SLURM job script of a sweep, printed instead of submitted:

    python -m noisyrobust.slurm_script hydra.launcher.partition=gpu method=ce,jocor seed=1,2,3

prints the sbatch script that `python train.py -m hydra/launcher=slurm <the same overrides>` submits (one
array job, a task per run), as submitit writes it from the launcher's config. Nothing is written or submitted,
and it needs no SLURM on this machine. The sweep folder's time stamp is this call's, unless
hydra.sweep.dir is given."""
import sys
from typing import Sequence

from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
from submitit.slurm.slurm import SlurmExecutor

from noisyrobust.cli import CONF_DIR, SLURM_LAUNCHER as LAUNCHER, check_group_choices, check_overrides
from noisyrobust.errors import UserError


def sbatch_script(overrides: Sequence[str]) -> str:
    """The sbatch text of the sweep ``overrides`` (train.py's, without ``-m``) under the SLURM launcher."""
    from hydra import compose, initialize_config_dir
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    # train.py's -m / --multirun, if given, and the launcher override are implied
    parsed = OverridesParser.create().parse_overrides([o for o in overrides if o != LAUNCHER and not o.startswith("-")])
    runs = len(BasicSweeper.split_arguments(parsed, max_batch_size=None)[0])
    fixed = [o.input_line for o in parsed if not o.is_sweep_override()]
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        # train.py's job name, which Hydra sets when it runs the script
        cfg = compose("config", overrides=[LAUNCHER, "hydra.job.name=train", *fixed], return_hydra_config=True)
    params = {k: v for k, v in OmegaConf.to_container(cfg.hydra.launcher, resolve=True).items() if v is not None}
    executor = _ScriptWriter(params.pop("submitit_folder"), max_num_timeout=params.pop("max_num_timeout"))
    del params["_target_"]
    # as hydra-submitit-launcher hands them to submitit's AutoExecutor: its generic queue keys translated to
    # SLURM's, the others as they are
    generic = set(OmegaConf.structured(BaseQueueConf).keys())
    slurm = executor._convert_parameters({k: v for k, v in params.items() if k in generic})
    executor.update_parameters(**slurm, **{k: v for k, v in params.items() if k not in generic})
    if runs > 1:  # one array job, as submitit submits a sweep
        executor.parameters["map_count"] = runs
    return executor._make_submission_file_text(executor._submitit_command_str, uid="")


class _ScriptWriter(SlurmExecutor):
    """submitit's SLURM executor, used only to write job scripts: it needs no srun on this machine."""

    @classmethod
    def affinity(cls) -> int:
        return 1


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if {"-h", "--help"} & set(argv):
        print(__doc__)
        return
    try:
        check_group_choices(argv)
        check_overrides(argv)
    except UserError as e:
        sys.exit(f"error: {e}")
    from hydra.errors import HydraException

    try:
        script = sbatch_script(argv)
    except (HydraException, ValueError) as e:  # a launcher key that does not exist, a value submitit refuses
        sys.exit("error: " + " ".join(str(e).split())[:400])
    print(script, end="")


if __name__ == "__main__":
    main()
