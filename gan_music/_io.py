"""Atomic file output: a file is either written whole or not at all.

Every file gan_music writes (MIDI, checkpoints, CSV logs, pictures) goes through
:func:`atomic_path`: the caller writes to a temporary file in the same folder, and only
when that succeeds is it renamed over the target, which is atomic on POSIX and Windows.
An exception, Ctrl-C or a crash leaves the old file (or nothing) in place, never half a file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from gan_music.errors import GanMusicError, OutputError


def check_input_path(
    path: str | os.PathLike[str], *, kind: str, error: type[GanMusicError] = GanMusicError
) -> Path:
    """Return ``path`` as a Path if it names an existing file; raise ``error`` saying what is wrong.

    ``kind`` names the file expected, for the message: ``"a MIDI file"``.
    """
    source = Path(path)
    if not source.exists():
        msg = f"{source} does not exist: check the path"
        raise error(msg)
    if source.is_dir():
        msg = f"{source} is a folder: give {kind}"
        raise error(msg)
    return source


def check_output_path(
    path: str | os.PathLike[str], *, force: bool = False, overwrite_hint: str = "pass force=True"
) -> Path:
    """Return ``path`` as a Path after checking it can be written; raise :class:`OutputError` if not.

    ``overwrite_hint`` says how the caller's user allows overwriting: ``force=True`` from
    Python, ``--force`` on the command line.
    """
    target = Path(path)
    if target.is_dir():
        msg = f"{target} is a folder: give a file name"
        raise OutputError(msg)
    if not target.parent.is_dir():
        msg = f"folder {target.parent} does not exist: create it first or choose another path"
        raise OutputError(msg)
    if target.exists() and not force:
        msg = f"{target} already exists: choose another name or {overwrite_hint} to overwrite it"
        raise OutputError(msg)
    if not os.access(target.parent, os.W_OK):
        msg = f"folder {target.parent} is not writable: choose another folder"
        raise OutputError(msg)
    return target


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, force: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(folder / "out.txt") as tmp:
    ...     _ = tmp.write_text("whole")
    >>> (folder / "out.txt").read_text()
    'whole'
    >>> try:
    ...     with atomic_path(folder / "out.txt") as tmp:
    ...         _ = tmp.write_text("half")
    ...         raise RuntimeError("crash mid-write")
    ... except RuntimeError:
    ...     pass
    >>> (folder / "out.txt").read_text(), sorted(p.name for p in folder.iterdir())
    ('whole', ['out.txt'])
    """
    target = check_output_path(path, force=force)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        msg = f"cannot write in folder {target.parent} ({error.strerror}): choose another folder"
        raise OutputError(msg) from error
    os.close(fd)
    tmp = Path(tmp_name)
    umask = os.umask(0)
    os.umask(umask)
    try:
        tmp.chmod(0o666 & ~umask)  # mkstemp makes files private; give the usual permissions
        yield tmp
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_stale_temporaries(folder: Path, names: list[str]) -> list[Path]:
    """Delete what :func:`atomic_path` leaves beside ``names`` when a process is killed mid-write.

    SIGKILL gives no chance to clean up, so the temporary file of an interrupted write
    stays behind (the target itself is still whole). A program that reuses the folder
    calls this first. Returns the files it removed.
    """
    removed = []
    for name in names:
        for stale in folder.glob(f".{name}.*.tmp"):
            stale.unlink(missing_ok=True)
            removed.append(stale)
    return removed
