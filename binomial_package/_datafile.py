"""Reading a data file of one number per line, the format of the course's ``numbers.txt``.

The course reader called ``int(line)`` on every line, so a float, a blank line or a
Windows line ending stopped it with a bare ``ValueError``. This one accepts integers and
decimals (``12``, ``-3.5``, ``1e-3``), blank lines, ``#`` comments (whole-line or after a
number), any line ending and a UTF-8 byte-order mark, and reports a bad line by file
name and line number. Integers stay ``int``, as in the course.

Hostile files cost bounded time and memory. Only regular files are read: a device such as
``/dev/zero`` or ``/dev/urandom``, a FIFO (which would block forever) or a socket is
refused before a byte is read. The file is read in chunks, never whole, up to
``MAX_FILE_BYTES`` (256 MiB, checked against the size the system reports and again while
reading, for files such as ``/proc``'s that report 0), and no line may be longer than
``MAX_LINE_BYTES`` (64 KiB, far more than any number or comment needs), so a gigabyte of
zeros is refused after its first chunk.
"""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

# Plain decimal notation only: no "nan", "inf", "1_000" or non-ASCII digits, which
# Python's own int() and float() would accept.
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_MAX_INTEGER_DIGITS = 308  # more digits than this cannot fit in a float
_SHOWN = 40  # characters of a bad line quoted in the error message
_NONZERO_DIGIT = re.compile(r"[1-9]")


def read_numbers(file_name: str | os.PathLike[str]) -> list[int | float]:
    """Return the numbers in a text file, one per line; a file with no number is an error.

    >>> import tempfile, pathlib
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(folder.name) / "numbers.txt"
    >>> _ = path.write_bytes(b"\\xef\\xbb\\xbf# heights\\r\\n1\\r\\n\\r\\n2.5  # cm\\r\\n")
    >>> read_numbers(path)
    [1, 2.5]
    >>> _ = path.write_text("1\\ntwo\\n")
    >>> read_numbers(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: .../numbers.txt, line 2: 'two' is not a number
    >>> read_numbers("/dev/zero")
    Traceback (most recent call last):
    ValueError: '/dev/zero' is a character device, not a regular file: give a text file with one number per line
    >>> folder.cleanup()
    """
    path = _as_path(file_name)
    numbers: list[int | float] = []
    with _open_regular_file(path) as handle:
        for line_number, raw in enumerate(_lines(handle, path), start=1):
            line = _decode(raw, path, line_number)
            content = line.split("#", 1)[0].strip()
            if content:
                numbers.append(_parse(content, path, line_number))
    if not numbers:
        msg = (
            f"{path}: no numbers in the file (it is empty, or only blank lines and comments); "
            "expected one number per line"
        )
        raise ValueError(msg)
    return numbers


#: The largest data file read, in bytes (256 MiB: some 25 million numbers).
MAX_FILE_BYTES = 256 * 2**20
#: The longest line, in bytes: no number or comment needs more.
MAX_LINE_BYTES = 64 * 2**10
_CHUNK_BYTES = 2**20
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_BYTE_ORDER_MARK = b"\xef\xbb\xbf"
_KINDS = (
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def _as_path(file_name: object) -> Path:
    if not isinstance(file_name, (str, os.PathLike)):
        msg = f"file_name must be a path (str or os.PathLike), not {type(file_name).__name__}"
        raise TypeError(msg)
    path = Path(file_name)
    if path.is_dir():
        msg = f"file_name {str(path)!r} is a directory: give the path of a data file inside it"
        raise ValueError(msg)
    return path


def _refuse_unless_regular(mode: int, size: int, path: Path) -> None:
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "not a file")
        msg = (
            f"{str(path)!r} is {kind}, not a regular file: "
            "give a text file with one number per line"
        )
        raise ValueError(msg)
    if size > MAX_FILE_BYTES:
        raise ValueError(_too_large(path, size))


def _too_large(path: Path, size: int | None = None) -> str:
    found = "" if size is None else f" ({size:,} bytes)"
    return (
        f"{path}: larger{found} than the {MAX_FILE_BYTES:,} bytes a data file may hold: "
        "split it into smaller files"
    )


def _open_regular_file(path: Path) -> BinaryIO:
    """Open ``path`` for reading only if it is a regular file of at most ``MAX_FILE_BYTES``."""
    try:
        status = path.stat()
    except FileNotFoundError:
        msg = f"data file not found: {str(path)!r}"
        raise FileNotFoundError(msg) from None
    _refuse_unless_regular(status.st_mode, status.st_size, path)
    # Non-blocking, so that a FIFO swapped in after the check cannot hang the open; the
    # descriptor is checked again, since the path may have changed in between.
    descriptor = os.open(
        path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    )
    try:
        status = os.fstat(descriptor)
        _refuse_unless_regular(status.st_mode, status.st_size, path)
    except BaseException:
        os.close(descriptor)
        raise
    return os.fdopen(descriptor, "rb", buffering=0)


def _lines(handle: BinaryIO, path: Path) -> Iterator[bytes]:
    """The lines of ``handle`` without their line breaks (``\\n``, ``\\r\\n`` or ``\\r``)."""
    pending = b""
    total = 0
    line_number = 1
    while chunk := handle.read(_CHUNK_BYTES):
        total += len(chunk)
        if total > MAX_FILE_BYTES:
            raise ValueError(_too_large(path))
        pending += chunk
        # A final "\r" may be the first half of "\r\n": keep it for the next chunk.
        held = b"\r" if pending.endswith(b"\r") else b""
        *complete, rest = _LINE_BREAK.split(pending[: len(pending) - len(held)])
        for line in complete:
            _check_length(line, path, line_number)
            yield line
            line_number += 1
        _check_length(rest, path, line_number)
        pending = rest + held
    yield pending.rstrip(b"\r")


def _check_length(line: bytes, path: Path, line_number: int) -> None:
    if len(line) > MAX_LINE_BYTES:
        msg = (
            f"{path}, line {line_number}: longer than {MAX_LINE_BYTES:,} bytes, "
            "so not a number: expected one number per line"
        )
        raise ValueError(msg)


def _decode(raw: bytes, path: Path, line_number: int) -> str:
    if line_number == 1 and raw.startswith(_BYTE_ORDER_MARK):
        raw = raw[len(_BYTE_ORDER_MARK) :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        msg = (
            f"{path}: not a UTF-8 text file (undecodable byte on line {line_number}, "
            f"column {error.start + 1}); expected one number per line"
        )
        raise ValueError(msg) from None


def _parse(content: str, path: Path, line_number: int) -> int | float:
    where = f"{path}, line {line_number}"
    if _INTEGER.fullmatch(content):
        if len(content.lstrip("+-")) > _MAX_INTEGER_DIGITS:
            msg = f"{where}: {content[:_SHOWN]!r}... is too large for a float"
            raise ValueError(msg)
        return int(content)
    if not _DECIMAL.fullmatch(content):
        shown = content if len(content) <= _SHOWN else content[:_SHOWN] + "..."
        msg = f"{where}: {shown!r} is not a number"
        raise ValueError(msg)
    value = float(content)
    if not math.isfinite(value):
        msg = f"{where}: {content[:_SHOWN]!r} is too large for a float"
        raise ValueError(msg)
    if value == 0.0 and _NONZERO_DIGIT.search(content.lower().partition("e")[0]):
        # Refused like an overflow: a nonzero number read as 0 would be a silent wrong answer.
        msg = f"{where}: {content[:_SHOWN]!r} is too small for a float (it would become 0)"
        raise ValueError(msg)
    return value
