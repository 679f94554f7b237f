"""`python -m noisyrobust.report DIR` aggregates the summary.json of a sweep's runs, one row per setting."""
import json
import re
import subprocess
import sys

import yaml

from conftest import ROOT


def write_run(path, *, method, seed, last, mean10, precision):
    path.mkdir(parents=True)
    summary = {"data": "digits", "noise": {"name": "sym0.4"}, "method": method, "seed": seed,
               "test_acc_last": last, "test_acc_mean_last10": mean10}
    (path / "summary.json").write_text(json.dumps(summary))
    (path / "metrics.csv").write_text(f"epoch,select/precision\n0,0.5\n1,{precision}\n")


def test_report_gives_mean_and_std_over_seeds_per_method(tmp_path):
    write_run(tmp_path / "0", method="jocor", seed=1, last=0.90, mean10=0.80, precision=0.95)
    write_run(tmp_path / "1", method="jocor", seed=2, last=0.94, mean10=0.84, precision=0.97)
    write_run(tmp_path / "2", method="ce", seed=1, last=0.70, mean10=0.71, precision=0.60)
    out = subprocess.run([sys.executable, "-m", "noisyrobust.report", str(tmp_path)], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0].split()[:4] == ["data", "noise", "method", "runs"]
    ce, jocor = out[1].split(), out[2].split()
    assert ce[:4] == ["digits", "sym0.4", "ce", "1"] and ce[4] == "70.00"
    # jocor: mean 92.00, sample std of (90, 94) = 2.83; precision mean 96.00, std 1.41; no best-val column
    assert jocor[:8] == ["digits", "sym0.4", "jocor", "2", "92.00", "±", "2.83", "82.00"]
    assert jocor[-4:] == ["96.00", "±", "1.41", "-"] and "-" in jocor[:-1]  # no published number for digits


def test_report_on_a_directory_without_runs_is_an_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "noisyrobust.report", str(tmp_path)], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode != 0 and f"no readable summary.json under {tmp_path}" in r.stderr


def test_report_on_a_directory_that_does_not_exist_says_so_in_one_line(tmp_path):
    for target, what in ((tmp_path / "nowhere", "does not exist"), (tmp_path / "file", "is not a directory")):
        (tmp_path / "file").write_text("")
        r = subprocess.run([sys.executable, "-m", "noisyrobust.report", str(target)], cwd=ROOT,
                           capture_output=True, text=True)
        assert r.returncode != 0
        assert r.stderr.strip().splitlines() == [f"error: {target} {what}; give a sweep's directory "
                                                 "(logs/train/multiruns/<time>) or any folder of run directories"]


def write_hydra_run(path, *, seed, last, rate=0.4, optimizer="adam", epochs=3, logger="csv"):
    """A run directory as `python train.py` leaves it: .hydra/config.yaml (uninterpolated), .hydra/hydra.yaml
    (the group choices) and summary.json."""
    lr, extra = {"adam": (0.001, {}), "sgd": (0.1, {"momentum": 0.9})}[optimizer]
    config = {"task_name": "train", "seed": seed, "ckpt_path": None,
              "noise": {"_target_": "noisyrobust.noise.symmetric_noise", "rate": rate, "seed": "${seed}"},
              "data": {"name": "digits", "batch_size": 128},
              "optimizer": {"_target_": f"torch.optim.{optimizer.title()}", "lr": lr, **extra},
              "trainer": {"max_epochs": epochs, "default_root_dir": "${paths.output_dir}"},
              "logger": {logger: {"save_dir": "${paths.output_dir}"}},
              "paths": {"output_dir": str(path)}}
    choices = {"noise": "sym0.4", "data": "digits", "method": "ce", "optimizer": optimizer, "logger": logger,
               "trainer": "cpu", "hydra/launcher": "basic"}
    (path / ".hydra").mkdir(parents=True)
    (path / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
    (path / ".hydra" / "hydra.yaml").write_text(yaml.safe_dump({"hydra": {"runtime": {"choices": choices}}}))
    summary = {"data": "digits", "noise": {"name": "sym0.4", "rate": rate}, "method": "ce", "seed": seed,
               "test_acc_last": last, "test_acc_mean_last10": last}
    (path / "summary.json").write_text(json.dumps(summary))


def test_report_groups_by_every_setting_that_differs_and_shows_those_as_columns(tmp_path):
    write_hydra_run(tmp_path / "0", seed=1, last=0.80)
    write_hydra_run(tmp_path / "1", seed=2, last=0.84, logger="wandb")  # seed and logger: same setting
    write_hydra_run(tmp_path / "2", seed=1, last=0.90, rate=0.2)        # noise.rate=0.2 over noise=sym0.4
    write_hydra_run(tmp_path / "3", seed=1, last=0.70, optimizer="sgd")  # its lr and momentum come with it
    write_hydra_run(tmp_path / "4", seed=1, last=0.88, epochs=5)
    (tmp_path / "5").mkdir()
    (tmp_path / "5" / "summary.json").write_text('{"data": "digits", "noi')  # a run killed mid-write
    r = subprocess.run([sys.executable, "-m", "noisyrobust.report", str(tmp_path)], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stderr.splitlines() == [line for line in r.stderr.splitlines() if line.startswith("warning: skipping")]
    assert len(r.stderr.splitlines()) == 1 and str(tmp_path / "5") in r.stderr
    header, *rows = [line.split() for line in r.stdout.splitlines()]
    assert header[:7] == ["data", "noise", "method", "optimizer", "noise.rate", "trainer.max_epochs", "runs"]
    table = {tuple(row[3:6]): row[6:] for row in rows}
    assert set(table) == {("adam", "0.4", "3"), ("adam", "0.2", "3"), ("sgd", "0.4", "3"), ("adam", "0.4", "5")}
    assert table[("adam", "0.4", "3")][:4] == ["2", "82.00", "±", "2.83"]  # seeds 1, 2: sample std of (80, 84)
    assert table[("adam", "0.2", "3")][:4] == ["1", "90.00", "±", "0.00"]
    assert table[("sgd", "0.4", "3")][:2] == ["1", "70.00"]
    assert table[("adam", "0.4", "5")][:2] == ["1", "88.00"]


def test_report_puts_the_published_number_beside_ours(tmp_path):
    from noisyrobust.published import published

    noise = {"name": "uniform0.5", "_target_": "noisyrobust.noise.uniform_noise", "rate": 0.5}
    assert published("dividemix", "cifar10", noise) == "94.6 best / 94.4 last"
    assert published("dividemix", "cifar10", {**noise, "rate": 0.3}) is None
    assert published("sop_plus", "cifar10n", {"_target_": "noisyrobust.noise.human_noise", "label": "aggre"}) == "95.61"
    run = tmp_path / "0"
    run.mkdir()
    (run / "summary.json").write_text(json.dumps({"data": "cifar10", "noise": noise, "method": "dividemix", "seed": 1,
                                                  "test_acc_last": 0.93, "test_acc_mean_last10": 0.92}))
    out = subprocess.run([sys.executable, "-m", "noisyrobust.report", str(tmp_path)], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0].split()[-1] == "published" and out[1].endswith("94.6 best / 94.4 last")


def test_report_shows_top5_and_imagenet_columns_only_where_runs_have_them(tmp_path):
    from noisyrobust.report import report

    write_run(tmp_path / "0", method="dividemix", seed=1, last=0.70, mean10=0.69, precision=0.9)
    summary = json.loads((tmp_path / "0" / "summary.json").read_text())
    summary.update(data="webvision", noise={"name": "human_noise", "_target_": "noisyrobust.noise.human_noise"},
                   test_acc_top5_last=0.91, test_imagenet_acc_last=0.65, test_imagenet_acc_top5_last=0.88)
    (tmp_path / "0" / "summary.json").write_text(json.dumps(summary))
    lines = report(tmp_path).splitlines()
    header, row = (re.split(r"\s{2,}", line.strip()) for line in lines[:2])
    assert header[-4:] == ["top-5 last", "ImageNet last", "ImageNet top-5 last", "published"]
    assert row[-4:-1] == ["91.00 ± 0.00", "65.00 ± 0.00", "88.00 ± 0.00"] and row[-1].startswith("77.32 / 91.64; ImageNet 75.20")
    write_run(tmp_path / "1", method="ce", seed=1, last=0.5, mean10=0.5, precision=0.5)
    (tmp_path / "0" / "summary.json").unlink()
    assert "top-5" not in report(tmp_path).splitlines()[0]
