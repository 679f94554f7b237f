"""`python -m noisyrobust.diagnose` on a damaged run: every input is read and checked before any plot is
written, a damaged file is named in one line (exit 2, no plots/ folder); a plot that cannot be drawn is
named with the reason while the others are drawn."""
import shutil

import pytest

from noisyrobust.diagnose import main

# one test process trains the module's shared run once (xdist would run its fixture in each)
pytestmark = pytest.mark.xdist_group("diagnose")


def cut_mid_row(text):
    lines = text.splitlines(keepends=True)
    half = len(lines) // 2
    return "".join(lines[:half]) + lines[half][: len(lines[half]) // 3]


DAMAGE = {  # file -> (damage, what the one line says)
    "table cut mid-file": ("label_issues.csv", lambda b: cut_mid_row(b.decode()).encode(),
                           "is not a readable label table (ValueError: line "),
    "table header only": ("label_issues.csv", lambda b: b.split(b"\n")[0] + b"\n", "holds a header and no rows"),
    "table binary": ("label_issues.csv", lambda b: bytes(range(256)) * 4, "is not a readable label table"),
    "table empty": ("label_issues.csv", lambda b: b"", "label_issues.csv is empty"),
    "table of another run": ("label_issues.csv", lambda b: b.replace(b"\n0,", b"\n999999,", 1),
                             "index 999999 is outside 0..1436 (noisy_labels.npz: 1437 samples, 10 classes)"),
    "labels truncated": ("noisy_labels.npz", lambda b: b[: len(b) // 2], "is not a readable .npz"),
    "metrics bad": ("metrics.csv", lambda b: b + b",".join([b"abc"] * (b.split(b"\n")[0].count(b",") + 1)) + b"\n",
                    "metrics.csv line "),
    "metrics cut": ("metrics.csv", lambda b: b + b"1,2\n", "cells where the header has"),
}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished 2-epoch run with its label table and Hydra's config, trained in-process once."""
    from conftest import compose_cfg
    from omegaconf import OmegaConf

    from noisyrobust.run import train

    out = tmp_path_factory.mktemp("diagnose") / "run"
    cfg = compose_cfg(out, "noise=sym0.4")
    train(cfg)
    (out / ".hydra").mkdir(exist_ok=True)
    OmegaConf.save(cfg, out / ".hydra" / "config.yaml")
    return out


@pytest.mark.parametrize("case", DAMAGE)
def test_a_damaged_run_is_named_in_one_line_and_no_plot_is_written(tmp_path, finished_run, capsys, case):
    name, damage, message = DAMAGE[case]
    run = shutil.copytree(finished_run, tmp_path / "run")
    (run / name).write_bytes(damage((run / name).read_bytes()))
    assert main([str(run)]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and name in lines[0] and message in lines[0], err
    assert out == "" and not (run / "plots").exists()


def test_a_plot_without_its_data_is_named_and_the_others_are_drawn(tmp_path, finished_run, capsys):
    run = shutil.copytree(finished_run, tmp_path / "run")
    (run / "metrics.csv").write_text("epoch,step,train/loss\n0,10,2.0\n")  # no memorization columns
    assert main([str(run)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f"memorization curves left out: {run / 'metrics.csv'} is missing or has none of mem/noisy_fit, " \
           "mem/noisy_true, mem/clean_fit, test/acc" in out
    assert sorted(p.name for p in (run / "plots").iterdir()) == [
        "detection_curves.png", "most_suspicious.png", "score_histograms.png", "transition_confusion.png"]
