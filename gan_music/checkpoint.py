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
>>> save_checkpoint(path, kind="model", config='{"noise_dim": 16}', arrays={"w": np.ones(3)})
>>> loaded = load_checkpoint(path, kinds=("model",))
>>> loaded.kind, loaded.config, loaded.arrays["w"].tolist()
('model', '{"noise_dim": 16}', [1.0, 1.0, 1.0])
"""

from __future__ import annotations

import os
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gan_music._io import atomic_path, check_input_path
from gan_music.errors import CheckpointError

FORMAT_VERSION = 1
_META = ("format_version", "kind", "config")


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
    path: str | os.PathLike[str], *, kinds: Sequence[str] = ("training", "model")
) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`, refusing anything else clearly."""
    where = check_input_path(path, kind="the checkpoint (.npz) file", error=CheckpointError)
    if not zipfile.is_zipfile(where):
        msg = f"{where} is not a checkpoint (.npz) file, or it is truncated: use a file gan-music wrote"
        raise CheckpointError(msg)
    arrays = _read_members(where)
    missing = [name for name in _META if name not in arrays]
    if missing:
        msg = f"{where} is not a gan-music checkpoint (no {', '.join(missing)}): use a file gan-music wrote"
        raise CheckpointError(msg)
    version = _scalar_int(where, arrays.pop("format_version"))
    if version != FORMAT_VERSION:
        msg = (
            f"{where} has checkpoint format {version}, this gan-music reads format {FORMAT_VERSION}: "
            "use a matching gan-music version or retrain"
        )
        raise CheckpointError(msg)
    kind, config = _text(where, arrays.pop("kind")), _text(where, arrays.pop("config"))
    if kind not in kinds:
        msg = f"{where} is a {kind!r} checkpoint, expected one of {list(kinds)}"
        raise CheckpointError(msg)
    return Checkpoint(path=where, kind=kind, config=config, arrays=arrays)


def _read_members(where: Path) -> dict[str, NDArray[Any]]:
    """Every array of the archive, read eagerly so damage shows up here and nowhere later."""
    arrays: dict[str, NDArray[Any]] = {}
    try:
        with np.load(where, allow_pickle=False) as archive:
            for name in archive.files:
                value = archive[name]
                if not isinstance(value, np.ndarray):
                    msg = (
                        f"{where} holds {name!r}, which is not an array: use a file gan-music wrote"
                    )
                    raise CheckpointError(msg)
                arrays[name] = value
    except CheckpointError:
        raise
    except ValueError as error:
        if "pickle" in str(error).lower():
            msg = (
                f"{where} holds a pickled Python object; refusing to load it because unpickling "
                "can run code: use a checkpoint gan-music wrote"
            )
            raise CheckpointError(msg) from None
        msg = f"{where} is damaged ({error}): use another checkpoint"
        raise CheckpointError(msg) from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        msg = f"{where} is damaged or truncated ({type(error).__name__}): use another checkpoint"
        raise CheckpointError(msg) from None
    return arrays


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
