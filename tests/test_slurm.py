"""The SLURM path without a cluster: scripts/slurm.sbatch run by bash with the variables of a one-task
allocation and an `srun` that runs its command; the submitit launcher's config, and a sweep through it
with fake sbatch/srun/sacct that run the job scripts submitit writes."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FAST, ROOT
from hydra import compose, initialize_config_dir

from noisyrobust.slurm_script import sbatch_script


def without_slurm(tmp_path) -> dict:
    """The environment with PATH stripped of sbatch and srun (a laptop, a CI runner)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "python").symlink_to(sys.executable)
    return {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin", "PYTHONPATH": str(ROOT)}


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
    overrides = ["hydra/launcher=slurm", "method=ce,sce", *FAST, "trainer.max_epochs=1", "diagnostics=none",
                 f"paths.log_dir={tmp_path / 'logs'}", f"paths.cache_dir={tmp_path / 'cache'}"]
    r = subprocess.run([sys.executable, str(ROOT / "train.py"), "-m", *overrides],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    printed = re.search(r"sweep output dir : (\S+)", r.stdout + r.stderr).group(1)
    sweep = tmp_path / "logs" / "train" / "multiruns"
    assert [p.name for p in sweep.iterdir()] == [Path(printed).name]  # one sweep, one folder
    summaries = sorted(json.loads(p.read_text())["method"] for p in Path(printed).glob("*/summary.json"))
    assert summaries == ["ce", "sce"]
    assert {"1000_0", "1000_1"} <= {p.name for p in (Path(printed) / ".submitit").iterdir()}  # one array job
    # the preview is the script submitit submitted (the same overrides, without -m, in the same folder)
    submitted = (Path(printed) / ".submitit" / "1000" / "1000_submission.sh").read_text()
    assert sbatch_script([*overrides, f"hydra.sweep.dir={printed}"]) == submitted


def test_a_slurm_sweep_without_sbatch_is_refused_in_one_line(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "train.py"), "-m", "hydra/launcher=slurm", "method=ce,sce",
                        f"hydra.sweep.dir={tmp_path / 'sweep'}"], cwd=ROOT, env=without_slurm(tmp_path),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert r.stderr.strip().splitlines() == [
        "error: hydra/launcher=slurm submits each run with sbatch, which is not on PATH here; run it on the cluster's "
        "login node (`python -m noisyrobust.slurm_script <overrides>` prints the job script)"]
    assert not (tmp_path / "sweep").exists()


def test_the_job_script_is_printed_without_slurm_and_without_writing_anything(tmp_path):
    r = subprocess.run([sys.executable, "-m", "noisyrobust.slurm_script", "hydra.launcher.partition=gpu",
                        "hydra.launcher.timeout_min=90", "method=ce,jocor", "seed=1,2,3",
                        f"hydra.sweep.dir={tmp_path / 'sweep'}"], cwd=tmp_path, env=without_slurm(tmp_path),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.splitlines()
    assert lines[0] == "#!/bin/bash"
    for line in ("#SBATCH --array=0-5%6", "#SBATCH --partition=gpu", "#SBATCH --time=90", "#SBATCH --job-name=train",
                 "#SBATCH --signal=USR2@120", "#SBATCH --gpus-per-node=1", "#SBATCH --cpus-per-task=8"):
        assert line in lines, line  # 2 methods x 3 seeds as one array; the launcher's config and overrides
    assert any(line.startswith("srun ") and f"-m submitit.core._submit {tmp_path / 'sweep' / '.submitit'}" in line
               for line in lines)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin"]  # nothing written, nothing submitted


def test_a_launcher_key_that_does_not_exist_gets_one_line_and_train_py_flags_are_ignored(capsys):
    from noisyrobust.slurm_script import main

    with pytest.raises(SystemExit) as stop:
        main(["hydra.launcher.partitionn=gpu", "method=ce"])
    assert str(stop.value.code).startswith("error: Could not override 'hydra.launcher.partitionn'")
    assert "\n" not in str(stop.value.code)
    main(["-m", "hydra/launcher=slurm", "method=ce,sce", "hydra.sweep.dir=/nonexistent/sweep"])
    assert "#SBATCH --array=0-1%2" in capsys.readouterr().out.splitlines()
