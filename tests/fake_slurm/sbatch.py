"""A fake `sbatch` for tests/test_slurm.py: answers with a job id, as SLURM does, then (once submitit has
moved its pickles into place) runs the job script's array tasks one after the other, each with the
variables SLURM sets for a one-task job. State (the next job id) lives in $FAKE_SLURM_DIR."""
import os
import re
import subprocess
import sys
import time
from pathlib import Path


def run_tasks(script: str, job: int, last_task: int) -> None:
    time.sleep(1)
    for task in range(last_task + 1) if last_task >= 0 else [None]:
        env = {**os.environ, "SLURM_JOB_ID": str(job if task is None else job + 1 + task), "SLURM_NTASKS": "1",
               "SLURM_NTASKS_PER_NODE": "1", "SLURM_NNODES": "1", "SLURM_PROCID": "0", "SLURM_LOCALID": "0",
               "SLURM_NODEID": "0", "SLURM_NODELIST": "localhost", "SLURM_JOB_NAME": "train"}
        if task is not None:
            env.update(SLURM_ARRAY_JOB_ID=str(job), SLURM_ARRAY_TASK_ID=str(task))
        subprocess.run(["bash", script], env=env)


if __name__ == "__main__":
    if sys.argv[1] == "--run-tasks":
        run_tasks(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        sys.exit()
    script = sys.argv[-1]
    counter = Path(os.environ["FAKE_SLURM_DIR"]) / "next_job_id"
    job = int(counter.read_text()) if counter.exists() else 1000
    counter.write_text(str(job + 1))
    array = re.search(r"#SBATCH --array=0-(\d+)", Path(script).read_text())
    subprocess.Popen([sys.executable, __file__, "--run-tasks", script, str(job), array.group(1) if array else "-1"],
                     start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"Submitted batch job {job}")
