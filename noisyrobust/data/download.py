"""Make sure a dataset's files are on disk, fetching them once if the user allows it."""
import socket
from pathlib import Path
from typing import Callable, Sequence

from noisyrobust.errors import UserError

NETWORK_TIMEOUT_S = 20


def one_line(error: BaseException, *, limit: int = 300) -> str:
    """Return ``error`` as one short line: its type and its message with whitespace collapsed."""
    text = " ".join(str(error).split())
    text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _present(directory: Path, name: str, suffixes: Sequence[str]) -> bool:
    return any((directory / (name + s)).is_file() for s in suffixes)


def ensure_files(directory, files: list[str], *, dataset: str, download: bool,
                 fetch: Callable[[], None], suffixes: Sequence[str] = ("",)) -> None:
    """Return if all ``files`` are in ``directory``; else fetch them or raise UserError.

    Parameters
    ----------
    directory : str or Path
        Where the files must be.
    files : list of str
        File names expected in ``directory``.
    dataset : str
        Name used in messages, e.g. ``'CIFAR-10'``.
    download : bool
        Whether ``fetch`` may be called when files are missing.
    fetch : callable
        Downloads the files (network); called at most once, under a short socket timeout.
    suffixes : sequence of str
        Alternative endings that each count as the file, e.g. ``('', '.gz')``.
    """
    directory = Path(directory)
    if all(_present(directory, f, suffixes) for f in files):
        return
    alternatives = "" if tuple(suffixes) == ("",) else " (each may end in " + " or ".join(
        repr(s) for s in suffixes) + ")"
    where = f"{dataset} files missing in {directory} (expected: {', '.join(files)}{alternatives})"
    if not download:
        raise UserError(f"{where}; set data.source.download=true or put the files there")
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(NETWORK_TIMEOUT_S)
    try:
        fetch()
    except Exception as error:  # any failure (no network, bad checksum, ...) is the user's to fix
        raise UserError(f"{where} and download failed: {one_line(error)}") from error
    finally:
        socket.setdefaulttimeout(previous)
    still = [f for f in files if not _present(directory, f, suffixes)]
    if still:
        raise UserError(f"{where} and the download did not produce: {', '.join(still)}")
