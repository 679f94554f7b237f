"""What a run prints when its output goes to a file (SLURM, Docker, `> log`): one line per epoch instead of
carriage-return progress bars, Lightning's INFO lines once, no library banners or deprecation warnings."""
import csv
import re

from conftest import run_cli


def test_piped_output_has_one_line_per_epoch_each_line_once_and_no_banners(tmp_path):
    r = run_cli(tmp_path / "run", "method=coteaching", "noise=sym0.4", "trainer.max_epochs=3")
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout + r.stderr
    assert "\r" not in out
    epochs = [line for line in r.stdout.splitlines() if line.startswith("Epoch ")]
    assert [re.match(r"Epoch (\d+): ", line).group(1) for line in epochs] == ["0", "1", "2"]
    for line in epochs:  # the progress bar's metrics, on one line
        assert re.search(r" val/acc=0\.\d+ test/acc=0\.\d+ ", line), line
    assert "select/precision=" in epochs[-1] and epochs[-1].endswith("[3/3 epochs, " + epochs[-1].split(", ")[-1])
    assert out.count("GPU available:") == 1 and out.count("`Trainer.fit` stopped") == 1
    assert "💡" not in out and "litlogger" not in out
    assert not re.search(r"deprecat|Warning", out, re.IGNORECASE), out
    # each line shows its own epoch's select/* (logged after the callbacks' epoch end): as metrics.csv has them
    with open(tmp_path / "run" / "metrics.csv", newline="") as f:
        logged = {int(r["epoch"]): float(r["select/ratio"]) for r in csv.DictReader(f) if r.get("select/ratio")}
    shown = {int(re.match(r"Epoch (\d+): ", line).group(1)): float(re.search(r"select/ratio=(\S+)", line).group(1))
             for line in epochs}
    assert len(set(logged.values())) == 3  # the ratio changes every epoch: a line one epoch late would differ
    assert shown == {e: float(f"{v:.4g}") for e, v in logged.items()}
