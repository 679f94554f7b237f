"""The README's commands are the ones that run: CI calls its test command word for word."""
import re

from conftest import ROOT


def readme_command(section):
    text = (ROOT / "README.md").read_text()
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"^    (python3 -m venv .*)$", body, re.M).group(1)


def test_ci_runs_the_readme_test_command():
    assert readme_command("Test") in (ROOT / ".ci" / "run").read_text()


def test_readme_run_command_trains_the_documented_job():
    assert readme_command("Run").endswith("python train.py method=ce noise=sym0.4")
