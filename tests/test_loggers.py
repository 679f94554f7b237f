"""logger=wandb without a key, or with a key and no network, logs offline and finishes; its runs are named and
grouped by setting; the label-issue plots and table reach the W&B run; logger=tensorboard writes event files."""
import csv
import json
import re
import socket
import subprocess
import sys
import time
from datetime import datetime

import numpy as np
import yaml
from PIL import Image

from conftest import ROOT, run_cli


def offline_env(tmp_path, **extra):
    return {"WANDB_API_KEY": "", "HOME": str(tmp_path), "WANDB_CONFIG_DIR": str(tmp_path / "cfg"), **extra}


def closed_port() -> int:
    """A localhost port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_time(output: str, message: str) -> datetime:
    """The timestamp of the first Hydra log line containing ``message``."""
    line = next(line for line in output.splitlines() if message in line)
    return datetime.strptime(re.match(r"\[([^\]]+)\]", line).group(1), "%Y-%m-%d %H:%M:%S,%f")


def test_wandb_without_key_or_network_logs_offline_and_finishes(tmp_path):
    r = run_cli(tmp_path / "run", "logger=wandb", "trainer.max_epochs=1", env=offline_env(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    runs = list((tmp_path / "run" / "wandb").glob("offline-run-*"))
    assert len(runs) == 1 and list(runs[0].glob("*.wandb"))
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["epochs"] == 1
    assert (tmp_path / "run" / "metrics.csv").is_file()  # csv rides along


def test_wandb_with_a_key_and_no_server_falls_back_offline_within_its_timeout(tmp_path):
    # before: the online start retried for ~100 s, the fallback started online again (W&B ignores a changed
    # WANDB_MODE once a session exists), waited as long again and died with a traceback
    env = offline_env(tmp_path, WANDB_API_KEY="f" * 40, WANDB_BASE_URL=f"http://127.0.0.1:{closed_port()}")
    start = time.monotonic()
    r = run_cli(tmp_path / "run", "logger=wandb", "logger.wandb.init_timeout=5", "trainer.max_epochs=1", env=env)
    wall = time.monotonic() - start
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Traceback" not in r.stdout + r.stderr
    waited = log_time(r.stdout, "W&B: online start failed") - log_time(r.stdout, "W&B: starting the online run")
    assert waited.total_seconds() <= 5 + 10 + 15  # init_timeout + W&B's grace + its start on a loaded machine
    assert wall < 120, wall
    runs = list((tmp_path / "run" / "wandb").glob("offline-run-*"))
    assert len(runs) == 1 and list(runs[0].glob("*.wandb"))
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["epochs"] == 1


def test_wandb_mode_offline_with_a_key_logs_offline_without_trying_the_network(tmp_path, monkeypatch, caplog):
    from noisyrobust.loggers import wandb_logger

    env = offline_env(tmp_path, WANDB_API_KEY="f" * 40, WANDB_BASE_URL=f"http://127.0.0.1:{closed_port()}",
                      WANDB_MODE="offline")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    start = time.monotonic()
    with caplog.at_level("INFO", logger="noisyrobust.loggers"):
        logger = wandb_logger(project="p", save_dir=str(tmp_path / "run"), init_timeout=30, name="offline")
        logger.experiment.finish()
    assert time.monotonic() - start < 25  # before: the 30 s online start, then the fallback
    assert "starting the online run" not in caplog.text and "logging offline (WANDB_MODE=offline" in caplog.text
    assert [p.name.split("-")[0] for p in (tmp_path / "run" / "wandb").glob("*run-*")] == ["offline"]


def composed_wandb(*overrides) -> dict:
    """``logger.wandb`` as `python train.py <overrides> --cfg job --resolve` prints it."""
    out = subprocess.run([sys.executable, str(ROOT / "train.py"), "logger=wandb", *overrides, "--cfg", "job",
                          "--resolve", "--package", "logger.wandb"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    return yaml.safe_load(out)


def test_wandb_runs_of_one_setting_share_a_group_and_differ_by_seed_in_name():
    s1 = composed_wandb("method=jocor", "noise=sym0.4", "optimizer.lr=0.01", "seed=1")
    s2 = composed_wandb("method=jocor", "noise=sym0.4", "optimizer.lr=0.01", "seed=2")
    other = composed_wandb("method=jocor", "noise=sym0.4", "optimizer.lr=0.001", "seed=1")
    assert s1["group"] == s2["group"] == "digits:method=jocor,noise=sym0.4,optimizer.lr=0.01"
    assert other["group"] != s1["group"]
    assert (s1["name"], s2["name"]) == ("train-jocor-sym0.4-s1", "train-jocor-sym0.4-s2")
    assert s1["config"]["choices"] == {"data": "digits", "noise": "sym0.4", "method": "jocor", "model": "mlp",
                                       "optimizer": "adam"}


def test_log_plots_sends_every_png_and_the_top_of_label_issues_to_the_wandb_run(tmp_path, monkeypatch):
    from noisyrobust.loggers import log_plots, wandb_logger

    for key, value in offline_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    run = tmp_path / "run"
    pixels = {"roc": np.zeros((6, 8, 3), np.uint8), "hist/aum": np.full((4, 4, 3), 200, np.uint8)}
    for name, array in pixels.items():
        (run / "plots" / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(array).save(run / "plots" / f"{name}.png")
    header = ["index", "given_label", "suggested_label", "aum", "is_noisy"]
    rows = [[i, i % 3, (i + 1) % 3, round(1 - i / 10, 2), "" if i == 1 else i % 2] for i in range(10)]
    with (run / "label_issues.csv").open("w", newline="") as f:
        csv.writer(f).writerows([header, *rows])

    logger = wandb_logger(project="p", save_dir=str(run), offline=True, name="plots")
    log_plots(run, [logger], top=4)
    logger.experiment.finish()

    files = next((run / "wandb").glob("offline-run-*")) / "files" / "media"
    for name, array in pixels.items():
        (png,) = (files / "images" / "plots").glob(f"{name}_*.png")
        assert np.array_equal(np.asarray(Image.open(png).convert("RGB")), array)
    (table,) = (files / "table").glob("label_issues_*.table.json")
    table = json.loads(table.read_text())
    assert table["columns"] == header
    assert table["data"] == [[*r[:4], r[4] if r[4] != "" else None] for r in rows[:4]]  # numbers stay numbers


def test_log_plots_without_a_wandb_logger_does_nothing(tmp_path):
    from lightning.pytorch.loggers import CSVLogger

    from noisyrobust.loggers import log_plots

    (tmp_path / "plots").mkdir()
    Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(tmp_path / "plots" / "roc.png")
    log_plots(tmp_path, [CSVLogger(tmp_path)])
    assert not (tmp_path / "wandb").exists()


def test_tensorboard_writes_event_files(tmp_path):
    r = run_cli(tmp_path / "run", "logger=tensorboard", "trainer.max_epochs=1")
    assert r.returncode == 0, r.stderr[-3000:]
    assert list((tmp_path / "run" / "tensorboard").rglob("events.out.tfevents.*"))
