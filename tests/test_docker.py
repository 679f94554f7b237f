"""docker/: the entrypoint names an unwritable logs volume in one line; the build context leaves the wheelhouse
out; build_local.sh's Debian base has its own tag, so a real python:3.11-slim on the host stays itself."""
import fnmatch
import os
import re
import subprocess
import sys

from conftest import ROOT, unwritable

DOCKER = ROOT / "docker"


def entrypoint(logs, *args):
    env = {**os.environ, "NOISYROBUST_LOGS": str(logs), "PATH": f"{os.path.dirname(sys.executable)}:/usr/bin:/bin"}
    return subprocess.run(["sh", str(DOCKER / "entrypoint.sh"), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_an_unwritable_logs_volume_is_named_with_the_chown_that_fixes_it(tmp_path):
    (tmp_path / "logs").mkdir()
    with unwritable(tmp_path / "logs"):
        r = entrypoint(tmp_path / "logs", "method=ce")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'logs'} is not writable by uid {os.getuid()} inside the container; on the host, "
        f"chown {os.getuid()} the folder mounted there (or run with --user \"$(id -u):$(id -g)\")"]


def test_a_writable_logs_volume_runs_train_py_with_the_arguments(tmp_path):
    (tmp_path / "logs").mkdir()
    r = entrypoint(tmp_path / "logs", "--help")
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.startswith("noisyrobust: train classifiers under noisy labels.")


def ignored(path: str) -> bool:
    """Whether .dockerignore keeps ``path`` (relative to the context) out of the build context."""
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines() if p.strip()]
    parts = path.split("/")
    return any(fnmatch.fnmatch("/".join(parts[:i]), p) for p in patterns for i in range(1, len(parts) + 1))


def test_the_wheelhouse_and_rootfs_of_build_local_stay_out_of_the_build_context():
    build = re.search(r"^BUILD=(\S+)", (DOCKER / "build_local.sh").read_text(), re.M).group(1)
    for path in (f"{build}/wheels/torch-2.5.0-cp311-cp311-linux_x86_64.whl", f"{build}/rootfs/usr/bin/python3"):
        assert ignored(path), path
    assert not ignored("noisyrobust/run.py") and not ignored("docker/entrypoint.sh")


def test_build_local_tags_its_base_as_its_own_and_hands_it_to_the_dockerfile():
    script = (DOCKER / "build_local.sh").read_text()
    base = re.search(r"^BASE=(\S+)", script, re.M).group(1)
    assert not re.match(r"(docker\.io/(library/)?)?python:", base), base  # never the official image's name
    assert '--build-arg BASE_IMAGE="$BASE"' in script
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim$", dockerfile, re.M)  # docker build: the real one
    assert re.search(r"^FROM \$\{BASE_IMAGE\}$", dockerfile, re.M)
