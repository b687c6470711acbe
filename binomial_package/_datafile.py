"""Reading a data file of one number per line, the format of the course's ``numbers.txt``.

The course reader called ``int(line)`` on every line, so a float, a blank line or a
Windows line ending stopped it with a bare ``ValueError``. This one accepts integers and
decimals (``12``, ``-3.5``, ``1e-3``), blank lines, ``#`` comments (whole-line or after a
number), any line ending and a UTF-8 byte-order mark, and reports a bad line by file
name and line number. Integers stay ``int``, as in the course.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

# Plain decimal notation only: no "nan", "inf", "1_000" or non-ASCII digits, which
# Python's own int() and float() would accept.
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_MAX_INTEGER_DIGITS = 308  # more digits than this cannot fit in a float
_SHOWN = 40  # characters of a bad line quoted in the error message


def read_numbers(file_name: str | os.PathLike[str]) -> list[int | float]:
    """Return the numbers in a text file, one per line.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "numbers.txt"
    >>> _ = path.write_bytes(b"\\xef\\xbb\\xbf# heights\\r\\n1\\r\\n\\r\\n2.5  # cm\\r\\n")
    >>> read_numbers(path)
    [1, 2.5]
    >>> _ = path.write_text("1\\ntwo\\n")
    >>> read_numbers(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: .../numbers.txt, line 2: 'two' is not a number
    """
    path = _as_path(file_name)
    text = _read_text(path)
    numbers: list[int | float] = []
    for line_number, line in enumerate(text.split("\n"), start=1):
        content = line.split("#", 1)[0].strip()
        if content:
            numbers.append(_parse(content, path, line_number))
    return numbers


def _as_path(file_name: object) -> Path:
    if not isinstance(file_name, (str, os.PathLike)):
        msg = f"file_name must be a path (str or os.PathLike), not {type(file_name).__name__}"
        raise TypeError(msg)
    path = Path(file_name)
    if path.is_dir():
        msg = f"file_name {str(path)!r} is a directory: give the path of a data file inside it"
        raise ValueError(msg)
    return path


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        msg = f"data file not found: {str(path)!r}"
        raise FileNotFoundError(msg) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        msg = (
            f"{path}: not a UTF-8 text file (undecodable byte at offset {error.start}); "
            "expected one number per line"
        )
        raise ValueError(msg) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


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
    return value
