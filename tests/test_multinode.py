"""Two "nodes" on this machine: two torchrun launches (--node-rank 0 and 1, rendezvous on 127.0.0.1, gloo)
of `train.py trainer=ddp_cpu trainer.num_nodes=2`, one process each, finish one run in one directory with
the noisy labels and results of a 2-process run on one node."""
import json
import os
import socket
import subprocess
import sys

import pytest
from conftest import FAST, ROOT, run_cli

TORCHRUN = [sys.executable, "-m", "torch.distributed.run"]
RUN = ["trainer=ddp_cpu", "noise=sym0.4", "trainer.max_epochs=2"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def two_nodes(log_dir, *extra, rdzv_id="two-nodes"):
    port = free_port()
    cmd = lambda rank: [*TORCHRUN, "--nnodes=2", "--nproc-per-node=1", f"--node-rank={rank}",  # noqa: E731
                        "--master-addr=127.0.0.1", f"--master-port={port}",
                        *([f"--rdzv-id={rdzv_id}"] if rdzv_id else []), str(ROOT / "train.py"), *FAST, *RUN,
                        "trainer.num_nodes=2", f"paths.log_dir={log_dir}", *extra]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    nodes = [subprocess.Popen(cmd(rank), cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
             for rank in (0, 1)]
    return [(p.wait(timeout=600), *p.communicate()) for p in nodes]


@pytest.mark.slow
def test_torchrun_on_two_nodes_matches_two_processes_on_one(tmp_path):
    (rc0, out0, err0), (rc1, _, err1) = two_nodes(tmp_path / "logs")
    assert rc0 == 0 and rc1 == 0, err0[-2000:] + err1[-2000:]
    runs = list((tmp_path / "logs" / "train" / "runs").iterdir())
    assert [r.name for r in runs] == ["torchrun-two-nodes_ce_sym0.4_s0"]  # one directory for both processes
    one_node = run_cli(tmp_path / "one_node", *RUN)
    assert one_node.returncode == 0, one_node.stderr[-2000:]
    s2 = json.loads((runs[0] / "summary.json").read_text())
    s1 = json.loads((tmp_path / "one_node" / "summary.json").read_text())
    assert s2["noise"]["checksum"] == s1["noise"]["checksum"]
    for key in ("epochs", "test_acc_last", "best_val_epoch", "val_acc_best"):
        assert s2[key] == pytest.approx(s1[key], abs=1e-6), key


def test_torchrun_without_rdzv_id_is_refused_in_one_line(tmp_path):
    (rc0, _, err0), (rc1, _, _) = two_nodes(tmp_path / "logs", rdzv_id=None)
    assert rc0 != 0 and rc1 != 0
    assert "error: torchrun started several processes without --rdzv-id" in err0
    assert not (tmp_path / "logs").exists()
