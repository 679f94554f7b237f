"""Installed from a wheel, noisyrobust runs from any directory: the config tree ships inside the package, the
`noisyrobust` command trains, and a user's own configs join through --config-dir."""
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

USER_EXPERIMENT = """\
# @package _global_
defaults:
  - override /noise: sym0.4
  - override /trainer: cpu
trainer:
  max_epochs: 2
"""


def build_wheel(tmp_path: Path) -> Path:
    """The wheel of a copy of the checkout's packaging inputs (so the checkout gets no build/ folder)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("noisyrobust", "conf"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
                    "-w", str(tmp_path / "dist"), str(src)], check=True, capture_output=True, text=True)
    return next((tmp_path / "dist").glob("noisyrobust-*.whl"))


def fresh_venv(tmp_path: Path) -> Path:
    """A new virtual environment that sees this one's packages (torch, ...) on its path after its own, so
    that nothing is downloaded; this one's noisyrobust (an editable install) is not among them."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    own = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         check=True, capture_output=True, text=True).stdout.strip()
    Path(own, "shared_site_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


@pytest.mark.slow
def test_a_wheel_installed_in_a_fresh_venv_trains_from_an_empty_directory(tmp_path):
    wheel = build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {n.removeprefix("noisyrobust/conf/") for n in names if n.startswith("noisyrobust/conf/")}
    assert shipped == {str(p.relative_to(ROOT / "conf")) for p in (ROOT / "conf").rglob("*.yaml")}
    page = ROOT / "noisyrobust" / "review" / "page"  # the review page's files
    assert {n for n in names if n.startswith("noisyrobust/review/page/")} == \
        {f"noisyrobust/review/page/{p.name}" for p in page.iterdir()} != set()

    venv = fresh_venv(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # nothing of the checkout on the path
    env["OMP_NUM_THREADS"] = "1"
    subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
                   check=True, env=env, capture_output=True)
    work = tmp_path / "empty"
    (work / "my_conf" / "experiment").mkdir(parents=True)
    (work / "my_conf" / "experiment" / "mine.yaml").write_text(USER_EXPERIMENT)
    command = str(venv / "bin" / "noisyrobust")

    where = subprocess.run([venv / "bin" / "python", "-c", "import noisyrobust.cli as c; print(c.CONF_DIR)"],
                           cwd=work, env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where) == venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / \
        "site-packages" / "noisyrobust" / "conf"
    helped = subprocess.run([command, "--help"], cwd=work, env=env, capture_output=True, text=True)
    assert helped.returncode == 0 and "train OVERRIDES" in helped.stdout and "review RUN" in helped.stdout

    r = subprocess.run([command, "train", "--config-dir", "./my_conf", "experiment=mine"], cwd=work, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "ce on digits, noise sym0.4 (realized 0.39" in r.stdout and "2 epochs in" in r.stdout
    runs = list((work / "logs" / "train" / "runs").iterdir())
    assert len(runs) == 1 and (runs[0] / "summary.json").is_file() and (runs[0] / "label_issues.csv").is_file()
    assert sorted(p.name for p in work.iterdir()) == ["logs", "my_conf"]

    wrong = subprocess.run([command, "train", "--config-dir", "./my_conf", "experiment=yours"], cwd=work, env=env,
                           capture_output=True, text=True)
    assert wrong.returncode != 0
    last = wrong.stderr.strip().splitlines()[-1]
    assert last.startswith("error: unknown experiment 'yours'; choose from: ") and ", mine, " in last
