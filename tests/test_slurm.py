"""The SLURM path without a cluster: scripts/slurm.sbatch run by bash with the variables of a one-task
allocation and an `srun` that runs its command; the submitit launcher's config, and a sweep through it
with fake sbatch/srun/sacct that run the job scripts submitit writes."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import FAST, ROOT
from hydra import compose, initialize_config_dir


def test_the_sbatch_script_trains_in_a_directory_named_by_the_job(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "srun").write_text('#!/bin/sh\nexec "$@"\n')
    (bin_dir / "srun").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHON": sys.executable,
           "SLURM_SUBMIT_DIR": str(ROOT), "SLURM_JOB_ID": "777", "SLURM_JOB_NAME": "noisyrobust", "SLURM_NTASKS": "1",
           "SLURM_NTASKS_PER_NODE": "1", "SLURM_NNODES": "1", "SLURM_PROCID": "0", "SLURM_LOCALID": "0",
           "SLURM_NODEID": "0", "SLURM_NODELIST": "localhost"}
    r = subprocess.run(["bash", str(ROOT / "scripts" / "slurm.sbatch"), *FAST, "trainer.max_epochs=1",
                        f"paths.log_dir={tmp_path / 'logs'}"], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    summary = json.loads((tmp_path / "logs" / "train" / "runs" / "slurm777_ce_clean_s0" / "summary.json").read_text())
    assert summary["epochs"] == 1


def test_the_slurm_launcher_is_submitits_with_a_requeue_before_the_time_limit():
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=["hydra/launcher=slurm"], return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_ == "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"
    assert launcher.signal_delay_s > 0 and launcher.max_num_timeout > 0


def test_the_submitit_launcher_runs_each_run_of_a_sweep_as_a_slurm_job_in_the_folder_it_prints(tmp_path):
    """`python train.py -m hydra/launcher=slurm ...` with fake sbatch/srun/sacct (tests/fake_slurm/) that run the
    job scripts submitit writes: the sweep's runs finish, each in its own directory, all under the one sweep
    folder the launcher prints (the default hydra.sweep.dir, stamped once: not again inside each job)."""
    fake = ROOT / "tests" / "fake_slurm"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sbatch").write_text(f'#!/bin/sh\nexec "{sys.executable}" "{fake / "sbatch.py"}" "$@"\n')
    (bin_dir / "sbatch").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{fake}:{os.environ['PATH']}", "FAKE_SLURM_DIR": str(tmp_path),
           "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, str(ROOT / "train.py"), "-m", "hydra/launcher=slurm", "method=ce,sce",
                        *FAST, "trainer.max_epochs=1", "diagnostics=none", f"paths.log_dir={tmp_path / 'logs'}",
                        f"paths.cache_dir={tmp_path / 'cache'}"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    printed = re.search(r"sweep output dir : (\S+)", r.stdout + r.stderr).group(1)
    sweep = tmp_path / "logs" / "train" / "multiruns"
    assert [p.name for p in sweep.iterdir()] == [Path(printed).name]  # one sweep, one folder
    summaries = sorted(json.loads(p.read_text())["method"] for p in Path(printed).glob("*/summary.json"))
    assert summaries == ["ce", "sce"]
    assert {"1000_0", "1000_1"} <= {p.name for p in (Path(printed) / ".submitit").iterdir()}  # one array job
