"""ensure_files: present files, missing files, a failing or useless fetch, the socket timeout."""
import socket

import pytest

from noisyrobust.data.download import ensure_files
from noisyrobust.errors import UserError

FILES = ["a_batch", "b_batch", "meta"]


def _write(directory, names):
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / name).write_bytes(b"x")


def _must_not_run():
    raise AssertionError("fetch called although nothing was to be fetched")


def test_all_present_returns_without_fetching(tmp_path):
    _write(tmp_path, FILES)
    ensure_files(tmp_path, FILES, dataset="Toy", download=True, fetch=_must_not_run)


def test_missing_without_download_names_directory_and_every_file(tmp_path):
    _write(tmp_path, FILES[:2])
    with pytest.raises(UserError) as info:
        ensure_files(tmp_path, FILES, dataset="Toy", download=False, fetch=_must_not_run)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"Toy files missing in {tmp_path} (expected: a_batch, b_batch, meta)")
    assert "; set data.source.download=true or put the files there" in message


@pytest.mark.parametrize("data", ["mnist", "fashion_mnist", "cifar10", "cifar100", "cifar10n"])
def test_the_key_the_hint_names_is_the_datasets_download_switch(data):
    from conftest import compose_cfg

    cfg = compose_cfg("/nonexistent", f"data={data}", "data.source.download=false")  # the hint's key exists
    assert cfg.data.source.download is False


def test_a_directory_named_like_a_file_does_not_count(tmp_path):
    _write(tmp_path, FILES[:2])
    (tmp_path / "meta").mkdir()
    with pytest.raises(UserError, match="missing"):
        ensure_files(tmp_path, FILES, dataset="Toy", download=False, fetch=_must_not_run)


def test_failing_fetch_gives_one_line_with_reason_and_restores_timeout(tmp_path):
    seen = []

    def fetch():
        seen.append(socket.getdefaulttimeout())
        raise OSError("[Errno 101] Network is unreachable\n  while fetching archive")

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(7.5)
    try:
        with pytest.raises(UserError) as info:
            ensure_files(tmp_path / "nothing", FILES, dataset="Toy", download=True, fetch=fetch)
        assert socket.getdefaulttimeout() == 7.5
    finally:
        socket.setdefaulttimeout(previous)
    message = str(info.value)
    assert seen == [20]
    assert "\n" not in message
    assert message == (f"Toy files missing in {tmp_path / 'nothing'} (expected: a_batch, b_batch, meta) "
                       "and download failed: OSError: [Errno 101] Network is unreachable while fetching archive")


def test_successful_fetch_that_writes_the_files(tmp_path):
    calls = []
    ensure_files(tmp_path, FILES, dataset="Toy", download=True,
                 fetch=lambda: calls.append(_write(tmp_path, FILES)))
    assert len(calls) == 1
    assert all((tmp_path / f).is_file() for f in FILES)


def test_fetch_that_leaves_files_missing_is_an_error(tmp_path):
    with pytest.raises(UserError, match=r"did not produce: b_batch, meta$"):
        ensure_files(tmp_path, FILES, dataset="Toy", download=True,
                     fetch=lambda: _write(tmp_path, FILES[:1]))


def test_suffixes_are_alternatives(tmp_path):
    _write(tmp_path, ["a_batch.gz", "b_batch", "meta.gz"])
    ensure_files(tmp_path, FILES, dataset="Toy", download=False, fetch=_must_not_run, suffixes=("", ".gz"))
    (tmp_path / "meta.gz").unlink()
    with pytest.raises(UserError, match=r"each may end in '' or '\.gz'"):
        ensure_files(tmp_path, FILES, dataset="Toy", download=False, fetch=_must_not_run, suffixes=("", ".gz"))
