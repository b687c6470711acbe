"""Small files that ask for huge work: the hostile checkpoints and MIDI files of the robustness tests.

Each builder writes a file of at most a few megabytes. Run this module to write them all into a
folder, to try them on the command line by hand (the commands are in docs/robustness.md)::

    python tests/robustness/hostile_files.py /tmp/hostile
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
from numpy.typing import NDArray

from gan_music.checkpoint import FORMAT_VERSION
from gan_music.models import Generator, ModelConfig

CHUNK = 2**20
SMALL = ModelConfig(
    g_channels=4,
    g_dilations=(1,),
    h_dilations=(1,),
    head_channels=4,
    relations=False,
    d_channels=4,
    d_dilations=(1,),
)


def npy_bytes(array: NDArray[Any]) -> bytes:
    """``array`` as the bytes of a ``.npy`` file."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def npy_header(descr: str, shape: tuple[int, ...]) -> bytes:
    """A version 1.0 ``.npy`` header, for data that need not follow it."""
    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def meta_members(config: str, kind: str = "model") -> dict[str, bytes]:
    """The three metadata members every checkpoint has."""
    return {
        "format_version": npy_bytes(np.array(FORMAT_VERSION, dtype=np.int64)),
        "kind": npy_bytes(np.array(kind)),
        "config": npy_bytes(np.array(config)),
    }


def model_members(config: ModelConfig = SMALL) -> dict[str, bytes]:
    """The members of a valid model file of ``config``: metadata and generator weights."""
    weights = Generator(config, rng=np.random.default_rng(0)).state_dict()
    members = meta_members(config.to_json())
    members.update({f"g/{name}": npy_bytes(value) for name, value in weights.items()})
    return members


def write_members(path: Path, members: Mapping[str, bytes]) -> Path:
    """A ``.npz`` holding ``members`` (name without ``.npy`` -> the member's bytes), deflated."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(f"{name}.npy", data)
    return path


def model_file(path: Path, changes: Mapping[str, bytes] | None = None) -> Path:
    """A valid small model file, with the members named in ``changes`` replaced or added."""
    return write_members(path, model_members() | dict(changes or {}))


def config_file(path: Path, **fields: Any) -> Path:
    """A model file of the small model whose configuration JSON has ``fields`` changed."""
    values = json.loads(SMALL.to_json()) | fields
    members = model_members()
    members["config"] = npy_bytes(np.array(json.dumps(values)))
    return write_members(path, members)


def weights_file(path: Path, transform: Callable[[NDArray[Any]], NDArray[Any]]) -> Path:
    """A small model file whose first weight array is replaced by ``transform(weight)``."""
    weights = Generator(SMALL, rng=np.random.default_rng(0)).state_dict()
    name = next(iter(weights))
    return model_file(path, {f"g/{name}": npy_bytes(transform(weights[name]))})


class _RepeatingDeflate:
    """A deflate compressor for zipfile that compresses a megabyte of zeros once, then reuses it.

    After a full flush deflate starts afresh, so the compressed form of the same megabyte is the
    same bytes every time: a file that inflates to gigabytes is written in a fraction of a second.
    """

    def __init__(self) -> None:
        self.zeros = self._compress(bytes(CHUNK))

    @staticmethod
    def _compress(data: bytes) -> bytes:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)

    def compress(self, data: bytes) -> bytes:
        return self.zeros if data == bytes(CHUNK) else self._compress(data)

    def flush(self) -> bytes:
        return zlib.compressobj(9, zlib.DEFLATED, -15).flush()


@contextmanager
def _repeating_deflate() -> Iterator[None]:
    with mock.patch.object(zipfile, "_get_compressor", return_value=_RepeatingDeflate()):
        yield


def zip_bomb(path: Path, inflated_mib: int = 512, name: str = "padding") -> Path:
    """A valid model file plus a member of ``inflated_mib`` MiB of zeros (a real, valid deflate stream).

    The member is a well-formed ``.npy`` array of bytes, so a loader that inflates it succeeds and
    holds it all in memory. 512 MiB deflate to about half a megabyte.
    """
    write_members(path, model_members())
    header = npy_header("|u1", (inflated_mib * CHUNK - len(npy_header("|u1", (1,))),))
    with (
        zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive,
        _repeating_deflate(),
        archive.open(f"{name}.npy", "w", force_zip64=True) as member,
    ):
        member.write(header + bytes(CHUNK - len(header)))
        for _ in range(inflated_mib - 1):
            member.write(bytes(CHUNK))
    return path


def tempo_flood(path: Path, n_events: int) -> Path:
    """A MIDI file of one short melody under ``n_events`` tempo changes, one tick apart."""
    import mido

    track = mido.MidiTrack()
    for index in range(n_events):
        track.append(mido.MetaMessage("set_tempo", tempo=400_000 + index % 1000, time=1))
    for pitch in (72, 74, 76, 77):
        track.append(mido.Message("note_on", note=pitch, velocity=80, time=0))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=480))
    midi_file = mido.MidiFile(type=1, ticks_per_beat=480)
    midi_file.tracks.append(track)
    midi_file.save(path)
    return path


def main(folder: str) -> None:
    """Write every hostile file the robustness tests use into ``folder``."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    zip_bomb(out / "bomb.npz", inflated_mib=4096)
    config_file(out / "dilations-200000.npz", g_dilations=[1] * 200_000)
    config_file(out / "channels-30000.npz", g_channels=30_000)
    config_file(out / "dilation-1e9.npz", g_dilations=[10**9])
    config_file(out / "head-negative.npz", head_channels=-1)
    config_file(out / "slope-nan.npz", slope=float("nan"))
    model_file(out / "header-1e12.npz", {"g/lift.bias": npy_header("<f4", (10**12,))})
    model_file(out / "header-truncated.npz", {"g/lift.bias": npy_header("<f4", (147,))[:30]})
    weights_file(out / "nan-weight.npz", lambda w: np.full_like(w, np.nan))
    weights_file(out / "complex-weight.npz", lambda w: w.astype(np.complex64))
    weights_file(out / "string-weight.npz", lambda w: w.astype(str))
    tempo_flood(out / "tempo-200000.mid", 200_000)
    tempo_flood(out / "tempo-40000.mid", 40_000)


if __name__ == "__main__":
    main(sys.argv[1])
