"""Atomic writes: the whole file or the old one, never a part; the usual permissions."""
import os
import stat

import pytest

from noisyrobust.files import atomic_write


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "summary.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(target, "w") as f:
            f.write("half")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_the_file_gets_the_permissions_open_would_give_it(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "label_issues.csv", "w") as f:
            f.write("index\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "label_issues.csv").stat().st_mode) == 0o644
