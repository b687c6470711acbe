"""Atomic file output: a file is either written whole or not at all.

Every file gan_music writes (MIDI, checkpoints, CSV logs, pictures) goes through
:func:`atomic_path`: the caller writes to a temporary file in the same folder, and only
when that succeeds is it renamed over the target, which is atomic on POSIX and Windows.
An exception, Ctrl-C or a crash leaves the old file (or nothing) in place, never half a file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

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
    if not source.is_file():
        raise error(_not_regular(source, kind))
    return source


def _not_regular(source: Path, kind: str) -> str:
    return f"{source} is not a regular file (a device, a pipe or a socket): give {kind}"


def open_input(
    path: str | os.PathLike[str], *, kind: str, limit: int, error: type[GanMusicError]
) -> BinaryIO:
    """Open a regular file of at most ``limit`` bytes for reading; raise ``error`` if it is not one.

    The file is opened without blocking, so a FIFO swapped in after :func:`check_input_path`
    cannot hang the program, and checked again on the open descriptor (devices report a size
    of 0, so the size alone proves nothing).
    """
    source = check_input_path(path, kind=kind, error=error)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(source, flags)
    except OSError as failure:
        msg = f"{source} cannot be read ({failure.strerror}): check its permissions"
        raise error(msg) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise error(_not_regular(source, kind))
    if info.st_size > limit:
        os.close(fd)
        raise error(_too_big(source, kind, limit))
    return os.fdopen(fd, "rb")


def read_input(
    path: str | os.PathLike[str], *, kind: str, limit: int, error: type[GanMusicError]
) -> bytes:
    """The bytes of a regular file, never more than ``limit`` whatever its size claims."""
    with open_input(path, kind=kind, limit=limit, error=error) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as failure:
            msg = f"{path} cannot be read ({failure.strerror}): check the file"
            raise error(msg) from None
    if len(data) > limit:
        raise error(_too_big(Path(path), kind, limit))
    return data


def _too_big(source: Path, kind: str, limit: int) -> str:
    return f"{source} is larger than {limit // 2**20} MB, the limit for {kind}: give a smaller file"


#: Temporary files are named ``.gm-XXXXXXXX.tmp`` (8 random characters): short, so that a
#: target name up to the file system's limit still has room for its temporary beside it.
TEMPORARY_PREFIX = ".gm-"
TEMPORARY_SUFFIX = ".tmp"
_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def check_output_path(
    path: str | os.PathLike[str], *, force: bool = False, overwrite_hint: str = "pass force=True"
) -> Path:
    """Return ``path`` as a Path after checking it can be written; raise :class:`OutputError` if not.

    ``overwrite_hint`` says how the caller's user allows overwriting: ``force=True`` from
    Python, ``--force`` on the command line.

    Refused, whatever ``force`` says: a folder, a name ending in a slash (which names a folder),
    anything that exists but is not a regular file (a device such as ``/dev/null``, a FIFO, a
    socket: ``--force`` replaces files, nothing else), a parent that is a file, and a name longer
    than the file system allows.
    """
    text = os.fspath(path)
    target = Path(path)
    _check_name_length(target)
    if target.is_dir():
        msg = f"{target} is a folder: give a file name"
        raise OutputError(msg)
    if text.endswith(("/", os.sep)):
        msg = f"{text} ends in '{text[-1]}', so it names a folder: give a file name inside it"
        raise OutputError(msg)
    _check_folder_of(target)
    try:
        status = target.stat()
    except OSError:
        status = None
    if status is not None and not stat.S_ISREG(status.st_mode):
        msg = (
            f"{target} is not a regular file (a device, pipe or socket): "
            "only files are ever replaced, so choose another name"
        )
        raise OutputError(msg)
    if status is not None and not force:
        msg = f"{target} already exists: choose another name or {overwrite_hint} to overwrite it"
        raise OutputError(msg)
    if not os.access(target.parent, os.W_OK):
        msg = f"folder {target.parent} is not writable: choose another folder"
        raise OutputError(msg)
    return target


def _check_folder_of(target: Path) -> None:
    if target.parent.is_dir():
        return
    blocker = next((folder for folder in target.parents if folder.exists()), None)
    if blocker is not None and not blocker.is_dir():
        msg = f"{blocker} is a file, not a folder: choose another path than {target}"
    else:
        msg = f"folder {target.parent} does not exist: create it first or choose another path"
    raise OutputError(msg)


def _check_name_length(target: Path) -> None:
    try:
        limit = os.pathconf(target.parent, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):  # no pathconf (Windows) or no answer
        limit = 255
    for part in target.parts:  # any folder on the way can be too long as well
        length = len(os.fsencode(part))
        if length > limit:
            msg = (
                f"the name {part[:24]}... is {length} bytes long, more than the "
                f"{limit} the file system allows: choose a shorter name"
            )
            raise OutputError(msg)


def check_output_paths(
    paths: Sequence[str | os.PathLike[str]],
    *,
    force: bool = False,
    overwrite_hint: str = "pass force=True",
) -> list[Path]:
    """:func:`check_output_path` for each of ``paths``, and refuse two names for the same file."""
    targets = [
        check_output_path(path, force=force, overwrite_hint=overwrite_hint) for path in paths
    ]
    for i, first in enumerate(targets):
        for second in targets[i + 1 :]:
            if _same_file(first, second):
                both = f"{first} is given twice" if first == second else f"{first} and {second}"
                msg = f"{both} for two outputs: give each output its own name"
                raise OutputError(msg)
    return targets


def _same_file(first: Path, second: Path) -> bool:
    if os.path.realpath(first) == os.path.realpath(second):
        return True
    try:
        return first.samefile(second)  # hard links
    except OSError:
        return False


def write_error(target: Path, error: OSError) -> str:
    """One line for an OS error while writing ``target``, naming the file and what to do."""
    if error.errno in _NO_SPACE:
        return (
            f"no space left on the device to write {target}: "
            "free some space or choose another folder"
        )
    if error.errno == errno.ENAMETOOLONG:
        return f"the path {target} is too long for the file system: choose a shorter name"
    reason = error.strerror or str(error) or type(error).__name__
    return f"cannot write {target} ({reason}): choose another folder"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, force: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    A full disk or a name the file system refuses ends in one :class:`OutputError` that
    names ``path``. This is :func:`atomic_group` for a single file.

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
    with atomic_group() as group, group.path(path, force=force) as tmp:
        yield tmp


class AtomicGroup:
    """Files written together: each goes to a temporary, and all are renamed at the end.

    Made by :func:`atomic_group`, which renames or removes the temporaries.
    """

    def __init__(self) -> None:
        self.pending: list[tuple[Path, Path]] = []  # (temporary, target)

    @contextlib.contextmanager
    def path(self, path: str | os.PathLike[str], *, force: bool = False) -> Iterator[Path]:
        """Yield a temporary beside ``path``; an OS error in the block names ``path``."""
        target = check_output_path(path, force=force)
        tmp = _temporary_beside(target)
        self.pending.append((tmp, target))
        try:
            yield tmp
        except BaseException as error:
            self.pending.remove((tmp, target))  # a failed file is never renamed into place
            tmp.unlink(missing_ok=True)
            cause = error.__cause__ if isinstance(error, OutputError) else error
            if isinstance(cause, OSError):  # also an inner writer's error about ``tmp``
                raise OutputError(write_error(target, cause)) from cause
            raise

    def commit(self) -> None:
        """Rename every temporary onto its target, in the order they were made."""
        for tmp, target in self.pending:
            try:
                tmp.replace(target)
            except OSError as error:
                raise OutputError(write_error(target, error)) from error

    def discard(self) -> None:
        """Remove every temporary that is still there."""
        for tmp, _ in self.pending:
            tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_group() -> Iterator[AtomicGroup]:
    """Write several files all or none: ``group.path(target)`` gives each one's temporary.

    Only when the whole block succeeds are the temporaries renamed onto their targets; if it
    fails (a full disk, an error, Ctrl-C), every temporary is removed and no target changes.
    Check every path first (:func:`check_output_paths`) so that a mistake costs no work.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> try:
    ...     with atomic_group() as group:
    ...         with group.path(folder / "a.mid") as mid:
    ...             _ = mid.write_text("music")
    ...         with group.path(folder / "a.png") as png:
    ...             raise OSError(28, "No space left on device")
    ... except OutputError as error:
    ...     print(str(error).replace(str(folder), "DIR"))
    no space left on the device to write DIR/a.png: free some space or choose another folder
    >>> sorted(folder.iterdir())
    []
    """
    group = AtomicGroup()
    try:
        yield group
        group.commit()
    finally:
        group.discard()


def _temporary_beside(target: Path) -> Path:
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=TEMPORARY_PREFIX, suffix=TEMPORARY_SUFFIX, dir=target.parent
        )
    except OSError as error:
        if error.errno in _NO_SPACE:
            raise OutputError(write_error(target, error)) from error
        msg = f"cannot write in folder {target.parent} ({error.strerror}): choose another folder"
        raise OutputError(msg) from error
    os.close(fd)
    tmp = Path(tmp_name)
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o666 & ~umask)  # mkstemp makes files private; give the usual permissions
    return tmp


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete what :func:`atomic_path` leaves in ``folder`` when a process is killed mid-write.

    SIGKILL gives no chance to clean up, so the temporary file of an interrupted write
    stays behind (the target itself is still whole). A program that owns the folder (a
    training run holds its lock) calls this first. Returns the files it removed.
    """
    removed = []
    for stale in folder.glob(f"{TEMPORARY_PREFIX}*{TEMPORARY_SUFFIX}"):
        stale.unlink(missing_ok=True)
        removed.append(stale)
    return removed
