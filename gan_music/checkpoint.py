"""Checkpoint files: plain ``.npz`` archives of arrays and JSON text, never pickles.

A checkpoint holds named arrays (weights, optimiser moments, the loss history) plus three
text entries: ``format_version``, ``kind`` (``"training"`` for a full training state,
``"model"`` for the generator weights that sampling needs) and ``config`` (the network
sizes as JSON). Files are written through :func:`gan_music._io.atomic_path`, so a crash
leaves the previous file whole, and read with ``allow_pickle=False``, so a file crafted to
run code when unpickled is refused, not executed. Every problem becomes a one-line
:class:`~gan_music.errors.CheckpointError` naming the file, what is wrong and what to do.

>>> import tempfile, pathlib, numpy as np
>>> path = pathlib.Path(tempfile.mkdtemp()) / "model.npz"
>>> save_checkpoint(path, kind="model", config='{"g_channels": 96}', arrays={"w": np.ones(3)})
>>> loaded = load_checkpoint(path, kinds=("model",))
>>> loaded.kind, loaded.config, loaded.arrays["w"].tolist()
('model', '{"g_channels": 96}', [1.0, 1.0, 1.0])
"""

from __future__ import annotations

import ast
import math
import os
import struct
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from gan_music._io import atomic_path, open_input
from gan_music.errors import CheckpointError

FORMAT_VERSION = 2  #: 2: the step-by-step generator of version 0.2 (1: version 0.1)
MAX_FILE_BYTES = 256 * 2**20  #: the largest configuration limits.py accepts needs ~180 MB
MAX_INFLATED_BYTES = 256 * 2**20  #: all members together, as their directory entries declare
MAX_MEMBERS = 512  #: a training checkpoint of the shipped model has 130
MAX_DIRECTORY_BYTES = 2**20  #: the archive's central directory
MAX_HEADER_BYTES = 4096  #: one ``.npy`` header; numpy writes about 128 bytes
MAX_TEXT_CHARS = 2**16  #: a text member (the configuration JSON, the random state)
_META = ("format_version", "kind", "config")
#: Members that may hold NaN (never infinity): the loss history marks a loss that was not
#: computed at a step (the critic's, before it starts to play) with NaN.
_NAN_ALLOWED = ("history",)
_KIND = "a checkpoint (.npz) file"
_NUMBER_KINDS = "biuf"  #: bool, signed and unsigned int, float
_MAX_DIMENSIONS = 8
_HEADER_PREFIX_BYTES = 12  #: magic, version and header length of a version 2 or 3 header
_END_RECORD_BYTES = 22  #: a zip archive's end of central directory record

Members = Mapping[str, tuple[tuple[int, ...] | None, bool]]
"""Array name -> (its shape, or None for any shape; whether it is text)."""
Expect = Callable[[Path, str, str], Members]


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint file holds: its kind, the model config JSON and the named arrays."""

    path: Path
    kind: str
    config: str
    arrays: dict[str, NDArray[Any]]

    def require(self, names: Sequence[str]) -> None:
        """Raise :class:`CheckpointError` if any of ``names`` is missing."""
        missing = [name for name in names if name not in self.arrays]
        if missing:
            shown = ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
            msg = f"{self.path} is missing {shown}: it is incomplete or from another program"
            raise CheckpointError(msg)


def save_checkpoint(
    path: str | os.PathLike[str], *, kind: str, config: str, arrays: Mapping[str, NDArray[Any]]
) -> None:
    """Write ``arrays`` and the metadata to ``path`` atomically (uncompressed ``.npz``)."""
    clash = set(arrays) & set(_META)
    if clash:
        msg = f"array names {sorted(clash)} are reserved for checkpoint metadata"
        raise ValueError(msg)
    entries: dict[str, NDArray[Any]] = {
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "kind": np.array(kind),
        "config": np.array(config),
        **{name: np.asarray(value) for name, value in arrays.items()},
    }
    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        np.savez(handle, **entries)  # type: ignore[arg-type]


def load_checkpoint(
    path: str | os.PathLike[str],
    *,
    kinds: Sequence[str] = ("training", "model"),
    expect: Expect | None = None,
) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`, refusing anything else clearly.

    Nothing is inflated or allocated before the archive's directory, every member's declared
    size and ``.npy`` header, and (with ``expect``) the configuration and the list of members
    have been checked against the limits at the top of this module. ``expect(path, kind,
    config)`` returns every array the file may hold besides the metadata, with its shape
    (None: any) and whether it is text; it raises :class:`CheckpointError` for a configuration
    it refuses. Arrays of numbers that are not finite are refused too (the loss history may
    hold NaN).
    """
    source = Path(path)
    with open_input(source, kind=_KIND, limit=MAX_FILE_BYTES, error=CheckpointError) as handle:
        if not zipfile.is_zipfile(handle):
            msg = f"{source} is not a checkpoint (.npz) file, or it is truncated: use a file gan-music wrote"
            raise CheckpointError(msg)
        _check_directory_size(source, handle)
        try:
            with zipfile.ZipFile(handle) as archive:
                return _load(source, archive, kinds, expect)
        except (OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError) as error:
            msg = (
                f"{source} is damaged or truncated ({type(error).__name__}): use another checkpoint"
            )
            raise CheckpointError(msg) from None


def _load(
    where: Path, archive: zipfile.ZipFile, kinds: Sequence[str], expect: Expect | None
) -> Checkpoint:
    members = _members(where, archive)
    missing = [name for name in _META if name not in members]
    if missing:
        msg = f"{where} is not a gan-music checkpoint (no {', '.join(missing)}): use a file gan-music wrote"
        raise CheckpointError(msg)
    version = _scalar_int(where, _read(where, archive, members["format_version"]))
    if version != FORMAT_VERSION:
        msg = (
            f"{where} has checkpoint format {version}, this gan-music reads format {FORMAT_VERSION}: "
            "use a matching gan-music version or retrain"
        )
        raise CheckpointError(msg)
    kind = _text(where, _read(where, archive, members["kind"]))
    config = _text(where, _read(where, archive, members["config"]))
    if kind not in kinds:
        msg = f"{where} is a {kind!r} checkpoint, expected one of {list(kinds)}"
        raise CheckpointError(msg)
    if expect is not None:
        _check_expected(where, members, expect(where, kind, config))
    arrays = {name: _read(where, archive, m) for name, m in members.items() if name not in _META}
    return Checkpoint(path=where, kind=kind, config=config, arrays=arrays)


@dataclass(frozen=True)
class _Member:
    """One ``.npy`` member as its directory entry and header describe it, before it is inflated."""

    name: str
    info: zipfile.ZipInfo
    dtype: np.dtype[Any]
    shape: tuple[int, ...]
    fortran_order: bool
    data_offset: int


def _check_directory_size(where: Path, handle: BinaryIO) -> None:
    """Refuse an archive whose directory lists too many members, before zipfile reads it all."""
    size = handle.seek(0, os.SEEK_END)
    start = max(0, size - _END_RECORD_BYTES - 0xFFFF)  # the end record, then a comment
    handle.seek(start)
    tail = handle.read(size - start)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _END_RECORD_BYTES:
        msg = f"{where} is not a checkpoint (.npz) file, or it is truncated: use a file gan-music wrote"
        raise CheckpointError(msg)
    entries, directory_bytes = struct.unpack_from("<HI", tail, at + 10)
    if entries > MAX_MEMBERS or directory_bytes > MAX_DIRECTORY_BYTES:
        msg = (
            f"{where} lists {entries} members in {directory_bytes} bytes, more than a checkpoint "
            f"has ({MAX_MEMBERS} members, {MAX_DIRECTORY_BYTES // 1024} KB): use a file gan-music wrote"
        )
        raise CheckpointError(msg)
    handle.seek(0)


def _members(where: Path, archive: zipfile.ZipFile) -> dict[str, _Member]:
    """Every member's directory entry and ``.npy`` header, checked; nothing is inflated yet."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:  # the end record can understate what the directory holds
        msg = f"{where} holds {len(infos)} members, more than the {MAX_MEMBERS} of a checkpoint: use a file gan-music wrote"
        raise CheckpointError(msg)
    total = sum(info.file_size for info in infos)
    if total > MAX_INFLATED_BYTES:
        msg = (
            f"{where} would inflate to {total / 2**20:,.0f} MB, more than the "
            f"{MAX_INFLATED_BYTES // 2**20} MB a checkpoint may hold: refusing to unpack it"
        )
        raise CheckpointError(msg)
    members: dict[str, _Member] = {}
    for info in infos:
        name = info.filename.removesuffix(".npy")
        if name == info.filename or name in members:
            what = "a second" if name in members else "a member that is not an array,"
            msg = f"{where} holds {what} {_shown(info.filename)}: use a file gan-music wrote"
            raise CheckpointError(msg)
        if info.flag_bits & 0x1:
            msg = f"{where} holds an encrypted member {_shown(name)}: use a file gan-music wrote"
            raise CheckpointError(msg)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            msg = f"{where}: {_shown(name)} uses a compression gan-music never writes: use a file gan-music wrote"
            raise CheckpointError(msg)
        with archive.open(info) as stream:
            head = stream.read(min(info.file_size, _HEADER_PREFIX_BYTES + MAX_HEADER_BYTES))
        members[name] = _member(where, name, info, head)
    return members


def _member(where: Path, name: str, info: zipfile.ZipInfo, head: bytes) -> _Member:
    """Parse a ``.npy`` header without numpy's own reader (which evaluates it with tokenize)."""
    shown = _shown(name)
    damaged = f"{where}: {shown} has a damaged or truncated .npy header: use another checkpoint"
    if head[:6] != b"\x93NUMPY" or len(head) < _HEADER_PREFIX_BYTES:
        raise CheckpointError(damaged)
    major = head[6]
    if major not in (1, 2, 3):
        raise CheckpointError(damaged)
    start = 10 if major == 1 else _HEADER_PREFIX_BYTES
    (length,) = struct.unpack_from("<H" if major == 1 else "<I", head, 8)
    if length > MAX_HEADER_BYTES or start + length > len(head):
        raise CheckpointError(damaged)
    try:
        fields = ast.literal_eval(
            head[start : start + length].decode("latin1" if major < 3 else "utf8")
        )
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError, UnicodeDecodeError):
        raise CheckpointError(damaged) from None
    if not isinstance(fields, dict) or set(fields) != {"descr", "fortran_order", "shape"}:
        raise CheckpointError(damaged)
    shape, fortran_order = fields["shape"], fields["fortran_order"]
    if (
        not isinstance(shape, tuple)
        or len(shape) > _MAX_DIMENSIONS
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
        or not isinstance(fortran_order, bool)
        or not isinstance(fields["descr"], str)
    ):
        raise CheckpointError(damaged)
    try:
        dtype = np.dtype(fields["descr"])
    except (TypeError, ValueError):
        raise CheckpointError(damaged) from None
    _check_dtype(where, shown, dtype, shape)
    claimed = math.prod(shape) * dtype.itemsize
    if start + length + claimed != info.file_size:
        msg = (
            f"{where}: {shown} claims {math.prod(shape):,} values ({claimed:,} bytes) but holds "
            f"{max(0, info.file_size - start - length):,} bytes: the file is damaged or was tampered with"
        )
        raise CheckpointError(msg)
    return _Member(name, info, dtype, shape, fortran_order, start + length)


def _check_dtype(where: Path, shown: str, dtype: np.dtype[Any], shape: tuple[int, ...]) -> None:
    if dtype.hasobject:
        msg = (
            f"{where} holds a pickled Python object; refusing to load it because unpickling "
            "can run code: use a checkpoint gan-music wrote"
        )
        raise CheckpointError(msg)
    if dtype.kind == "U" and shape == ():
        if dtype.itemsize > 4 * MAX_TEXT_CHARS:
            msg = (
                f"{where}: {shown} is a text of {dtype.itemsize // 4:,} characters, more than the "
                f"{MAX_TEXT_CHARS:,} accepted: the file is damaged or not a gan-music checkpoint"
            )
            raise CheckpointError(msg)
        return
    if dtype.kind not in _NUMBER_KINDS:
        what = {"c": "complex numbers", "U": "text", "S": "bytes"}.get(
            dtype.kind, f"values of type {dtype}"
        )
        msg = f"{where}: {shown} holds {what}, not real numbers: the file is damaged or not a gan-music checkpoint"
        raise CheckpointError(msg)


def _check_expected(where: Path, members: Mapping[str, _Member], expected: Members) -> None:
    """Refuse members the configuration has no place for, and wrong shapes or types, before reading.

    Missing members are the caller's to check: sampling needs only some of a training checkpoint.
    """
    for name, member in members.items():
        if name in _META:
            continue
        if name not in expected:
            msg = f"{where} holds {_shown(name)}, which this model has no use for: use a file gan-music wrote"
            raise CheckpointError(msg)
        shape, text = expected[name]
        if (member.dtype.kind == "U") != text:
            what = "text" if member.dtype.kind == "U" else "numbers"
            msg = f"{where}: {_shown(name)} holds {what} where the model needs {'text' if text else 'numbers'}: the file is damaged"
            raise CheckpointError(msg)
        if shape is not None and member.shape != shape:
            msg = (
                f"{where}: {name} has shape {member.shape}, the model needs {shape}: "
                "the checkpoint was written for a different model configuration"
            )
            raise CheckpointError(msg)


def _read(where: Path, archive: zipfile.ZipFile, member: _Member) -> NDArray[Any]:
    """Inflate one member into an array of the size its checked header declared, and no more."""
    shape = member.shape[::-1] if member.fortran_order else member.shape
    array: NDArray[Any] = np.empty(shape, member.dtype)
    with archive.open(member.info) as stream:
        stream.read(member.data_offset)
        flat = array.reshape(-1).view(np.uint8)  # a view of the new array's bytes
        got = stream.readinto(flat.data) if flat.size else 0  # type: ignore[attr-defined]
        if got != array.nbytes or stream.read(1):
            msg = f"{where}: {_shown(member.name)} is truncated: use another checkpoint"
            raise CheckpointError(msg)
    if member.fortran_order:
        array = array.T
    if (
        array.dtype.kind == "f"
        and not (~np.isinf(array) if member.name in _NAN_ALLOWED else np.isfinite(array)).all()
    ):
        msg = (
            f"{where}: {_shown(member.name)} holds NaN or infinite values: the run that wrote it "
            "diverged or the file is damaged; use an earlier checkpoint or retrain"
        )
        raise CheckpointError(msg)
    return array


def _shown(name: str) -> str:
    return repr(name) if len(name) <= 60 else repr(name[:57] + "...")


def _scalar_int(where: Path, value: NDArray[Any]) -> int:
    if value.shape != () or value.dtype.kind not in "iu":
        msg = f"{where} has a malformed format_version: use a file gan-music wrote"
        raise CheckpointError(msg)
    return int(value)


def _text(where: Path, value: NDArray[Any]) -> str:
    if value.shape != () or value.dtype.kind != "U":
        msg = f"{where} has malformed metadata: use a file gan-music wrote"
        raise CheckpointError(msg)
    return str(value)


def check_shapes(
    where: Path, arrays: Mapping[str, NDArray[Any]], expected: Mapping[str, tuple[int, ...]]
) -> None:
    """Raise :class:`CheckpointError` unless each expected name is present with its shape."""
    for name, shape in expected.items():
        if name not in arrays:
            msg = f"{where} is missing {name}: it is incomplete or was written for another model"
            raise CheckpointError(msg)
        if arrays[name].shape != shape:
            msg = (
                f"{where}: {name} has shape {arrays[name].shape}, the model needs {shape}: "
                "the checkpoint was written for a different model configuration"
            )
            raise CheckpointError(msg)
