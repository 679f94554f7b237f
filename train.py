"""Train a classifier under noisy labels: `python train.py method=jocor noise=sym0.4` (--help for more)."""
import sys

import hydra
from omegaconf import DictConfig

from noisyrobust.cli import check_group_choices, check_launcher, check_overrides
from noisyrobust.errors import find_user_error


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg: DictConfig) -> float:
    from noisyrobust.run import runs  # after Hydra has parsed argv: --help answers without importing torch
    from noisyrobust.preemption import Preempted, handle_preemption

    try:
        summary = runs(cfg)
    except Preempted as stop:  # SIGTERM / SIGINT / SIGUSR1: last.ckpt kept, the resume command printed
        sys.exit(handle_preemption(stop))
    except Exception as e:  # noqa: BLE001 - a user's mistake becomes one line; anything else propagates
        user_error = find_user_error(e)
        if user_error is None:
            raise
        sys.exit(f"error: {user_error}")
    return summary.get("test_acc_last", float("nan"))


if __name__ == "__main__":
    check_group_choices(sys.argv[1:])
    check_overrides(sys.argv[1:])
    check_launcher(sys.argv[1:])
    main()
