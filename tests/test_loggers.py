"""logger=wandb without a key logs offline and finishes; logger=tensorboard writes event files."""
import json

from conftest import run_cli


def test_wandb_without_key_or_network_logs_offline_and_finishes(tmp_path):
    env = {"WANDB_API_KEY": "", "HOME": str(tmp_path), "WANDB_CONFIG_DIR": str(tmp_path / "cfg")}
    r = run_cli(tmp_path / "run", "logger=wandb", "trainer.max_epochs=1", env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    runs = list((tmp_path / "run" / "wandb").glob("offline-run-*"))
    assert len(runs) == 1 and list(runs[0].glob("*.wandb"))
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["epochs"] == 1
    assert (tmp_path / "run" / "metrics.csv").is_file()  # csv rides along


def test_tensorboard_writes_event_files(tmp_path):
    r = run_cli(tmp_path / "run", "logger=tensorboard", "trainer.max_epochs=1")
    assert r.returncode == 0, r.stderr[-3000:]
    assert list((tmp_path / "run" / "tensorboard").rglob("events.out.tfevents.*"))
