"""Shared test helpers: compose the real configs (shrunk to seconds on a CPU) and run the real CLI."""
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

# one intra-op thread per test process (the suite runs `-n 2` on 2 cores; subprocesses inherit it), set before
# torch starts OpenMP's pool: a rank forked from a process whose pool is running hangs in its first matmul
os.environ["OMP_NUM_THREADS"] = "1"

import pytest  # noqa: E402
import torch  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402
from omegaconf import open_dict

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))  # tests/formats.py

torch.set_num_threads(1)

# the smallest run that still exercises every hook: CPU, two epochs
FAST = ["trainer=cpu", "trainer.max_epochs=2"]
# DDP on two CPU processes forked from the test's own (Lightning's ddp_fork: no interpreter started and no
# import paid per rank); `trainer=ddp_cpu` as a user launches it is tested through the CLI in tests/test_cli.py
DDP_FORK = ["trainer=ddp_cpu", "trainer.strategy=ddp_fork"]


def compose_cfg(out_dir, *overrides):
    """The config a user would get from `python train.py <overrides>`, writing into ``out_dir``."""
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=[*FAST, *overrides])
    with open_dict(cfg):
        cfg.paths.output_dir = str(out_dir)
        if not any(o.startswith("paths.cache_dir=") for o in overrides):  # never the repository's logs/cache
            cfg.paths.cache_dir = str(Path(out_dir).parent / "cache")
    return cfg


def run_cli(out_dir, *overrides, flags=(), env=None, timeout=600):
    """`python train.py <flags> <overrides>` in a subprocess, its run directory at ``out_dir``."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    cmd = [sys.executable, str(ROOT / "train.py"), *flags, *FAST, f"hydra.run.dir={out_dir}",
           f"paths.cache_dir={Path(out_dir).parent / 'cache'}", *overrides]  # a later paths.cache_dir wins
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=full_env, timeout=timeout)


def run_api(out_dir, *overrides):
    """``noisyrobust.train`` (what ``python train.py`` runs, in this process) into ``out_dir``; the finished Run."""
    from noisyrobust import train

    return train([*FAST, f"hydra.run.dir={out_dir}", f"paths.cache_dir={Path(out_dir).parent / 'cache'}", *overrides])


def refused(out_dir, *overrides) -> str:
    """The one line ``noisyrobust.train`` refuses ``overrides`` with, in this process: the command's own checks
    and run (``noisyrobust train``/``train.py`` print this line after ``error: `` and exit 1; tests/test_cli.py
    and tests/test_validate.py check that end through the CLI) without a Lightning import per case."""
    from noisyrobust.errors import UserError

    with pytest.raises(UserError) as raised:
        run_api(out_dir, *overrides)
    message = str(raised.value)
    assert message and "\n" not in message, message
    return message


@contextmanager
def unwritable(folder):
    """``folder`` made unwritable for this user: mode 555, and for root (whom modes do not stop) immutable."""
    folder.chmod(0o555)
    immutable = os.geteuid() == 0 and subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0
    if os.geteuid() == 0 and not immutable:
        folder.chmod(0o755)
        pytest.skip("root without chattr: no directory here is unwritable")
    try:
        yield folder
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


@pytest.fixture
def fit(tmp_path):
    """Train in-process from the real configs; returns (summary, run dir)."""
    from noisyrobust.run import train

    def _fit(*overrides, name="run", hydra_config=False, callbacks=()):
        """``hydra_config``: also write the composed config where Hydra writes it (.hydra/config.yaml), for
        the commands that read a finished run directory (diagnose, report); ``callbacks``: more for the run."""
        out = tmp_path / name
        cfg = compose_cfg(out, *overrides)
        summary = train(cfg, callbacks=callbacks)
        if hydra_config:
            from omegaconf import OmegaConf
            (out / ".hydra").mkdir(exist_ok=True)
            OmegaConf.save(cfg, out / ".hydra" / "config.yaml")
        return summary, out

    _fit.tmp_path = tmp_path
    return _fit


@pytest.fixture(scope="session")
def method_runs(tmp_path_factory):
    """The cross-method battery's runs (tests/method_configs.py: ``train_battery``), trained once per test
    process and read by several tests (resume, fused steps, label-issue columns). Each test of a method is
    marked ``xdist_group(method)``: all of them run in the process that holds the group (``--dist loadgroup``,
    pyproject's addopts)."""
    from method_configs import train_battery

    done = {}

    def runs(method: str) -> dict:
        if method not in done:
            done[method] = train_battery(method, tmp_path_factory.mktemp(f"battery_{method}"))
        return done[method]

    return runs
