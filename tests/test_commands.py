"""The `noisyrobust` command: its subcommands, a help that imports no training stack, a user's --config-dir."""
import subprocess
import sys

import pytest
from conftest import ROOT

from noisyrobust import commands
from noisyrobust.cli import CONF_DIR, check_group_choices, check_overrides, find_config_dir
from noisyrobust.errors import UserError


def test_help_lists_the_subcommands_without_importing_torch_or_lightning():
    code = ("import sys\nfrom noisyrobust.commands import main\nstatus = main(['--help'])\n"
            "print('imported:', sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'lightning', 'timm'}), status)")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    lines = r.stdout.splitlines()
    assert lines[-1] == "imported: [] 0"
    assert [line.split()[0] for line in lines[2:-1]] == ["train", "diagnose", "report", "review", "dashboard"]


def test_an_unknown_command_or_a_missing_module_is_one_line(capsys, monkeypatch):
    assert commands.main(["trian"]) == 2
    assert capsys.readouterr().err == "error: unknown command 'trian'; choose from: train, diagnose, report, review, dashboard\n"
    monkeypatch.setitem(commands.COMMANDS, "review", ("noisyrobust.no_such_module:main", "RUN", "-"))
    assert commands.main(["review", "RUN"]) == 2
    assert capsys.readouterr().err == ("error: `noisyrobust review` is not part of this installation "
                                       "(no module noisyrobust.no_such_module)\n")


def test_subcommands_hand_their_arguments_to_the_modules(tmp_path):
    with pytest.raises(SystemExit, match=f"^error: no readable summary.json under {tmp_path}$"):
        commands.main(["report", str(tmp_path)])
    with pytest.raises(SystemExit, match="^error: unknown method 'jocr'; choose from: backward, cal, ce, cores, "):
        commands.main(["train", "method=jocr"])


def test_train_exits_with_the_same_line_as_train_py():
    lines = [subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True).stderr.strip().splitlines()[-1]
             for cmd in ([sys.executable, "train.py", "noise=sym9"], [sys.executable, "-m", "noisyrobust", "train", "noise=sym9"])]
    assert lines[0] == lines[1] and lines[0].startswith("error: unknown noise 'sym9'; choose from: asym0.4, clean")


def test_the_checkout_finds_its_conf_tree():
    assert find_config_dir() == CONF_DIR == ROOT / "conf"


def test_a_users_config_dir_joins_the_choices_and_the_composition(tmp_path):
    (tmp_path / "experiment").mkdir()
    (tmp_path / "experiment" / "mine.yaml").write_text("# @package _global_\ntrainer:\n  max_epochs: 3\n")
    check_group_choices(["--config-dir", str(tmp_path), "experiment=mine"])
    check_group_choices([f"--config-dir={tmp_path}", "experiment=mine"])
    check_overrides(["-cd", str(tmp_path), "experiment=mine"])
    with pytest.raises(UserError, match=r"^unknown experiment 'mine'; choose from: animal10n/ce, "):
        check_group_choices(["experiment=mine"])  # without the directory
    with pytest.raises(UserError, match="experiment/mine"):  # composed from the user's directory only
        check_overrides(["experiment=mine"])
    with pytest.raises(UserError, match=f"^--config-dir {tmp_path / 'none'} is not a directory$"):
        check_group_choices(["--config-dir", str(tmp_path / "none"), "experiment=mine"])
