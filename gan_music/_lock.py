"""One process at a time in a folder: a lock that dies with the process holding it.

A training run holds the lock on a small file in its folder (``run.lock``) for as long as
it writes there. A second run in the same folder is refused with one line naming the
holder: its process id, host and start time, which the holder writes into the lock file.

The lock is the operating system's, not the file's existence, so it is released however
the holder ends, ``kill -9`` and power loss included: a crashed run never leaves a stale
lock, and the file left behind is harmless. On POSIX it is ``fcntl.flock``; on Windows,
which has no ``fcntl``, ``msvcrt.locking`` on one byte of the file, far past its text so
that others can still read who holds it. Both are advisory: they stop gan_music's own runs,
not other programs. When its run ends, the holder adds the time it ended to the text, so the
file left behind says the run is over (a run killed outright leaves only its start). Where
neither exists (no known platform that runs numpy) nothing is locked. Like every ``flock``,
the lock may not hold on some network file systems.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from gan_music.errors import GanMusicError

_LOCKED_BYTE = 1 << 20  # Windows locks a byte range; this one lies beyond the holder's text


def _try_lock(fd: int) -> bool:
    """Take the lock on ``fd`` without waiting; False if another process holds it."""
    try:
        import fcntl
    except ImportError:
        pass
    else:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    try:
        import msvcrt
    except ImportError:
        return True
    os.lseek(fd, _LOCKED_BYTE, os.SEEK_SET)
    try:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined,unused-ignore]
    except OSError:
        return False
    return True


def _holder(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 400).decode("utf-8", "replace").strip()
    return text or "a process that has not written its details yet"


def _busy(folder: Path, holder: str) -> GanMusicError:
    msg = (
        f"{folder} is in use by another run ({holder}): wait for it to end or choose another folder"
    )
    return GanMusicError(msg)


@contextlib.contextmanager
def folder_lock(folder: Path, name: str) -> Iterator[Path]:
    """Hold the lock on ``folder / name`` for the block; refuse at once if another process has it.

    While the block runs the file names its holder; when the block ends, however it ends
    short of the process dying, the holder adds when it ended, so a file left behind says
    that its run is over:

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with folder_lock(folder, "run.lock") as lock:
    ...     lock.read_text().startswith(f"pid {os.getpid()} on ")
    True
    >>> ", ended " in lock.read_text()
    True
    """
    path = folder / name
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    holder = ""
    try:
        if not _try_lock(fd):
            raise _busy(folder, _holder(fd))
        holder = f"pid {os.getpid()} on {socket.gethostname()}, started {_now()}"
        _write(fd, holder)
        yield path
    finally:
        if holder:  # still ours: say the run is over before letting go
            with contextlib.suppress(OSError):
                _write(fd, f"{holder}, ended {_now()}")
        os.close(fd)  # closing the file releases the lock


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _write(fd: int, text: str) -> None:
    """Replace the lock file's text (only its holder writes it)."""
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, f"{text}\n".encode())


def check_unlocked(folder: Path, name: str) -> None:
    """Raise the "in use" error now if another process holds ``folder / name``; never creates it."""
    try:
        fd = os.open(folder / name, os.O_RDWR)
    except OSError:  # no lock file: nobody has ever locked this folder
        return
    try:
        if not _try_lock(fd):
            raise _busy(folder, _holder(fd))
    finally:
        os.close(fd)
