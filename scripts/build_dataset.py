"""Build ``gan_music/data/chorales.npz`` from the Bach chorales bundled with music21.

Development only: music21 is in the ``data`` dependency group and the package never imports it.
Run from the repository root (parsing takes about 70 s)::

    pip install --group data
    python scripts/build_dataset.py            # rebuild the shipped file
    python scripts/build_dataset.py --check    # rebuild in memory, compare with the shipped file

What it keeps: the chorales with exactly four parts in 4/4 only, each file once (several
Riemenschneider numbers share a file), identical music once. Voices are ordered soprano, alto,
tenor, bass. Every onset is quantised to the nearest 16th note; a note that shrinks to nothing
there (the second of two 32nd notes, a grace note) is dropped and counted.

The file holds plain integer and string arrays (load it with ``allow_pickle=False``)::

    format_version  ()          int16  1
    names           (n,)        str    "bwv1.6", ... sorted
    n_steps         (n,)        int32  length of each chorale in 16th notes
    first_downbeat  (n,)        int16  step of the first bar line (0 without a pickup)
    voice_offsets   (4n + 1,)   int32  events of chorale c, voice v: [offsets[4c+v], offsets[4c+v+1])
    pitch           (events,)   int8   MIDI pitch, or -1 for a rest
    duration        (events,)   uint8  in 16th notes

Each voice is a run of events that tile its chorale exactly, so an event's start is the sum of the
durations before it, and two repeated notes stay two events. The zip is written with fixed dates
and a fixed member order, so two builds give the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import itertools
import math
import sys
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

OUT = Path(__file__).resolve().parents[1] / "gan_music" / "data" / "chorales.npz"
STEPS_PER_QUARTER = 4
STEPS_PER_BAR = 16
REST = -1
FORMAT_VERSION = 1
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold

RawEvent = tuple[Fraction, Fraction, "int | None"]  #: (onset, length) in quarters, MIDI or rest


@dataclass
class Stats:
    """Counts reported at the end of the build."""

    numbers: int = 0
    files: int = 0
    skipped: dict[str, list[str]] = field(default_factory=dict)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    notes: int = 0
    off_grid: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    grace: list[str] = field(default_factory=list)

    def skip(self, reason: str, name: str) -> None:
        self.skipped.setdefault(reason, []).append(name)


@dataclass
class Chorale:
    """One quantised chorale: per voice, (pitch, duration) events that tile ``n_steps``."""

    name: str
    n_steps: int
    first_downbeat: int
    voices: list[list[tuple[int, int]]]


def chorale_files(stats: Stats) -> list[str]:
    """The corpus paths of the chorales, each once, in Riemenschneider order."""
    from music21 import corpus

    numbered = list(
        corpus.chorales.Iterator(numberingSystem="riemenschneider", returnType="filename")
    )
    stats.numbers = len(numbered)
    files = list(dict.fromkeys(str(name) for name in numbered))
    stats.files = len(files)
    return files


def first_downbeat_steps(part: Any) -> int:
    """Step of the first bar line: the length of the pickup bar, or 0 if the first bar is full."""
    first = part.getElementsByClass("Measure").first()
    if first is None or float(first.paddingLeft) == 0:
        return 0
    return round(Fraction(first.duration.quarterLength) * STEPS_PER_QUARTER) % STEPS_PER_BAR


def raw_events(part: Any, name: str, stats: Stats) -> list[RawEvent]:
    """The notes and rests of one part with ties merged; grace notes are counted and left out."""
    events: list[RawEvent] = []
    for element in part.stripTies().flatten().notesAndRests:
        if element.duration.isGrace:
            stats.grace.append(f"{name} {part.partName} {element.pitch.midi} at {element.offset}")
            continue
        if element.isChord:
            msg = f"{name}: a chord in one voice at {element.offset}"
            raise RuntimeError(msg)
        midi = None if element.isRest else int(element.pitch.midi)
        events.append((Fraction(element.offset), Fraction(element.quarterLength), midi))
    return events


def quantise(
    events: list[RawEvent], n_steps: int, label: str, stats: Stats
) -> list[tuple[int, int]]:
    """(pitch, duration) events on the 16th grid that tile ``n_steps`` steps.

    Each onset is rounded to the nearest step (halves up) and each event lasts until the next
    rounded onset, so rounding never makes voices overlap or leave gaps. An event that shrinks
    to no steps is dropped. Silence, including silence at the end, becomes REST events, and
    neighbouring rests are merged.
    """
    starts: list[int] = []
    pitches: list[int] = []
    end = Fraction(0)
    for onset, length, midi in events:
        if onset != end:
            msg = f"{label}: events are not contiguous at {onset}"
            raise RuntimeError(msg)
        end = onset + length
        grid_start, grid_end = onset * STEPS_PER_QUARTER, end * STEPS_PER_QUARTER
        if midi is not None and (grid_start.denominator != 1 or grid_end.denominator != 1):
            stats.off_grid.append(f"{label} {midi} at quarter {onset}")
        starts.append(math.floor(grid_start + Fraction(1, 2)))
        pitches.append(REST if midi is None else midi)
    starts.append(n_steps)
    voice: list[tuple[int, int]] = []
    for start, stop, pitch in zip(starts[:-1], starts[1:], pitches, strict=True):
        if stop <= start:
            if pitch != REST:
                stats.dropped.append(f"{label} {pitch} at step {start}")
            continue
        if pitch == REST and voice and voice[-1][0] == REST:
            voice[-1] = (REST, voice[-1][1] + stop - start)
        else:
            voice.append((pitch, stop - start))
    if sum(d for _, d in voice) < n_steps:
        voice.append((REST, n_steps - sum(d for _, d in voice)))
    return voice


def parse(path: str, stats: Stats) -> Chorale | None:
    """Parse one corpus file, or return None (and count why) if it is not four voices in 4/4."""
    from music21 import corpus

    name = path.rsplit("/", 1)[-1]
    score = corpus.parse(path)
    parts = list(score.parts)
    if len(parts) != 4:
        stats.skip("not exactly four parts", name)
        return None
    metres = {ts.ratioString for ts in score.recurse().getElementsByClass("TimeSignature")}
    if metres != {"4/4"}:
        stats.skip("not in 4/4 throughout", name)
        return None
    n_steps = round(Fraction(score.highestTime) * STEPS_PER_QUARTER)
    voices = []
    for part in parts:
        label = f"{name} {part.partName or part.id}"
        voices.append(quantise(raw_events(part, name, stats), n_steps, label, stats))
    means = [np.mean([p for p, _ in voice if p != REST]) for voice in voices]
    if not all(upper > lower for upper, lower in itertools.pairwise(means)):
        msg = f"{name}: parts are not ordered from highest to lowest: mean pitches {means}"
        raise RuntimeError(msg)
    downbeats = {first_downbeat_steps(part) for part in parts}
    if len(downbeats) != 1:
        msg = f"{name}: parts disagree about the pickup: {downbeats}"
        raise RuntimeError(msg)
    stats.notes += sum(p != REST for voice in voices for p, _ in voice)
    return Chorale(name, n_steps, downbeats.pop(), voices)


def drop_duplicates(chorales: list[Chorale], stats: Stats) -> list[Chorale]:
    """Sort by name and keep the first of any chorales whose quantised music is identical."""
    kept: dict[tuple[Any, ...], Chorale] = {}
    for chorale in sorted(chorales, key=lambda c: c.name):
        key = (chorale.first_downbeat, tuple(tuple(v) for v in chorale.voices))
        if key in kept:
            stats.duplicates.append((chorale.name, kept[key].name))
            stats.notes -= sum(p != REST for voice in chorale.voices for p, _ in voice)
        else:
            kept[key] = chorale
    return list(kept.values())


def encode(chorales: list[Chorale]) -> dict[str, NDArray[Any]]:
    """The arrays stored in the npz (see the module docstring)."""
    events = [event for c in chorales for voice in c.voices for event in voice]
    lengths = [len(voice) for c in chorales for voice in c.voices]
    durations = np.array([d for _, d in events], dtype=np.int64)
    if durations.max() > np.iinfo(np.uint8).max:
        msg = f"an event of {durations.max()} steps does not fit uint8"
        raise RuntimeError(msg)
    return {
        "format_version": np.array(FORMAT_VERSION, dtype=np.int16),
        "names": np.array([c.name for c in chorales], dtype=np.str_),
        "n_steps": np.array([c.n_steps for c in chorales], dtype=np.int32),
        "first_downbeat": np.array([c.first_downbeat for c in chorales], dtype=np.int16),
        "voice_offsets": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32),
        "pitch": np.array([p for p, _ in events], dtype=np.int8),
        "duration": durations.astype(np.uint8),
    }


def npz_bytes(arrays: dict[str, NDArray[Any]]) -> bytes:
    """An ``.npz`` archive with fixed member order, dates and permissions: same arrays, same bytes.

    ``np.savez_compressed`` stamps each member with the current time, so two builds would differ.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for key in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(
                member, np.require(arrays[key], requirements="C"), allow_pickle=False
            )
            info = zipfile.ZipInfo(f"{key}.npy", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, member.getvalue(), compresslevel=9)
    return buffer.getvalue()


def decode_check(data: bytes, chorales: list[Chorale]) -> None:
    """Load the archive as the package will and check every event comes back."""
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        offsets, pitch, duration = npz["voice_offsets"], npz["pitch"], npz["duration"]
        for c_index, chorale in enumerate(chorales):
            for v_index, voice in enumerate(chorale.voices):
                lo, hi = offsets[4 * c_index + v_index], offsets[4 * c_index + v_index + 1]
                got = list(zip(pitch[lo:hi].tolist(), duration[lo:hi].tolist(), strict=True))
                if got != voice or sum(d for _, d in got) != npz["n_steps"][c_index]:
                    msg = f"{chorale.name} voice {v_index} did not survive encoding"
                    raise RuntimeError(msg)


def summary(chorales: list[Chorale], stats: Stats, data: bytes, seconds: float) -> str:
    """A readable account of what the build kept, dropped and changed."""
    lines = [
        f"parsed in {seconds:.0f} s: {stats.numbers} Riemenschneider numbers, {stats.files} files",
    ]
    lines += [f"  skipped {len(names)}: {reason}" for reason, names in stats.skipped.items()]
    lines += [f"  skipped {a}: same music as {b}" for a, b in stats.duplicates]
    lines.append(f"kept {len(chorales)} chorales, {stats.notes} notes")
    repeats = total = 0
    for voice_index, voice_name in enumerate(("soprano", "alto", "tenor", "bass")):
        notes = [[p for p, _ in c.voices[voice_index] if p != REST] for c in chorales]
        flat = [p for piece in notes for p in piece]
        repeats += sum(a == b for piece in notes for a, b in itertools.pairwise(piece))
        total += len(flat)
        lines.append(f"  {voice_name:8} MIDI {min(flat)}-{max(flat)}, {len(flat)} notes")
    lines.append(f"  {repeats / total:.1%} of notes repeat the previous pitch of their voice")
    lines.append(f"off the 16th grid: {len(stats.off_grid)} notes")
    lines += [f"  {item}" for item in stats.off_grid]
    lines.append(f"dropped after rounding to the grid: {len(stats.dropped)} notes")
    lines += [f"  {item}" for item in stats.dropped]
    lines.append(f"grace notes left out: {len(stats.grace)}")
    lines += [f"  {item}" for item in stats.grace]
    pickups = sum(c.first_downbeat > 0 for c in chorales)
    steps = sum(c.n_steps for c in chorales)
    longest = max(d for c in chorales for voice in c.voices for _, d in voice)
    lines.append(
        f"{pickups} chorales start with a pickup; {steps} steps in all; longest note {longest}"
    )
    digest = hashlib.sha256(data).hexdigest()[:16]
    lines.append(f"npz: {len(data)} bytes, sha256 {digest}...")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"output file (default {OUT})")
    parser.add_argument(
        "--check", action="store_true", help="compare with the existing file instead of writing"
    )
    args = parser.parse_args(argv)
    stats = Stats()
    began = time.perf_counter()
    parsed = [parse(path, stats) for path in chorale_files(stats)]
    chorales = drop_duplicates([c for c in parsed if c is not None], stats)
    data = npz_bytes(encode(chorales))
    decode_check(data, chorales)
    print(summary(chorales, stats, data, time.perf_counter() - began))
    if args.check:
        same = args.out.is_file() and args.out.read_bytes() == data
        print(f"{args.out}: {'identical' if same else 'DIFFERS'}")
        return 0 if same else 1
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
