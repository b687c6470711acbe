"""Build ``gan_music/data/chorales.npz`` (and ``chorales_other_metres.npz``) from music21's Bach chorales.

Development only: music21 is in the ``data`` dependency group and the package never imports it.
Run from the repository root (parsing takes about 70 s)::

    pip install --group data
    python scripts/build_dataset.py            # rebuild the shipped files
    python scripts/build_dataset.py --check    # rebuild in memory, compare with the shipped files

What it keeps: the chorales with exactly four parts, each file once (several Riemenschneider
numbers share a file), identical music once. Those in 4/4 throughout go to ``chorales.npz``, the
training data; all the others (3/4, 3/2, or a change of metre) to ``chorales_other_metres.npz``,
the unseen test of metre generalisation, which nothing in training may read. Voices are ordered
soprano, alto, tenor, bass. Every onset is quantised to the nearest 16th note; a note that
shrinks to nothing there (the second of two 32nd notes, a grace note) is dropped and counted.

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

``chorales_other_metres.npz`` holds the same arrays (``first_downbeat`` counted in bars of the
chorale's first metre) and one row per metre section, a stretch under one time signature::

    metre_offsets   (n + 1,)    int32  sections of chorale c: [offsets[c], offsets[c+1])
    metre_start     (sections,) int32  step where the section begins (0, then bar lines)
    time_signature  (sections,) str    "3/4", ...
    steps_per_bar   (sections,) int16  sixteenths per bar: 12 for 3/4, 24 for 3/2
    steps_per_beat  (sections,) int16  sixteenths per beat: the denominator's note in simple
                                       metres (4 in 3/4, 8 in 3/2 and 2/2), a dotted one in
                                       compound metres (6 in 6/8 and 12/8)
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

DATA = Path(__file__).resolve().parents[1] / "gan_music" / "data"
OUT = DATA / "chorales.npz"
OTHER_OUT = DATA / "chorales_other_metres.npz"
COMMON_TIME = "4/4"
STEPS_PER_QUARTER = 4
STEPS_PER_BAR = 16
REST = -1
FORMAT_VERSION = 1
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold

RawEvent = tuple[Fraction, Fraction, "int | None"]  #: (onset, length) in quarters, MIDI or rest
Section = tuple[int, str]  #: (first step, time signature such as "3/4") of a stretch in one metre


@dataclass
class Stats:
    """Counts reported at the end of the build."""

    numbers: int = 0
    files: int = 0
    skipped: dict[str, list[str]] = field(default_factory=dict)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
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
    metres: tuple[Section, ...] = ((0, COMMON_TIME),)

    @property
    def in_common_time(self) -> bool:
        """True if the chorale is in 4/4 throughout."""
        return self.metres == ((0, COMMON_TIME),)


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


def bar_steps(time_signature: str) -> int:
    """Sixteenths in a bar of ``time_signature``: ``bar_steps("3/4") == 12``."""
    numerator, denominator = (int(part) for part in time_signature.split("/"))
    steps = Fraction(numerator * STEPS_PER_QUARTER * 4, denominator)
    if steps.denominator != 1:
        msg = f"a bar of {time_signature} is not a whole number of 16th notes"
        raise RuntimeError(msg)
    return int(steps)


def beat_steps(time_signature: str) -> int:
    """Sixteenths in a beat of ``time_signature``, as ``gan_music.midi`` reads a MIDI file's."""
    from gan_music.midi import beat_of_signature

    numerator, denominator = (int(part) for part in time_signature.split("/"))
    return beat_of_signature(numerator, denominator)


def first_downbeat_steps(part: Any, steps_per_bar: int = STEPS_PER_BAR) -> int:
    """Step of the first bar line: the length of the pickup bar, or 0 if the first bar is full."""
    first = part.getElementsByClass("Measure").first()
    if first is None or float(first.paddingLeft) == 0:
        return 0
    return round(Fraction(first.duration.quarterLength) * STEPS_PER_QUARTER) % steps_per_bar


def metre_sections(part: Any, name: str) -> tuple[Section, ...]:
    """Where each time signature of the part takes effect (a repeated one is not a change)."""
    sections: list[Section] = []
    for measure in part.getElementsByClass("Measure"):
        signature = measure.timeSignature
        if signature is None or (sections and sections[-1][1] == signature.ratioString):
            continue
        step = Fraction(measure.offset) * STEPS_PER_QUARTER
        if step.denominator != 1:
            msg = f"{name}: the time signature {signature.ratioString} starts off the 16th grid"
            raise RuntimeError(msg)
        sections.append((int(step), signature.ratioString))
    if not sections or sections[0][0] != 0:
        msg = f"{name}: no time signature at the start"
        raise RuntimeError(msg)
    return tuple(sections)


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
    """Parse one corpus file, or return None (and count why) if it is not four voices."""
    from music21 import corpus

    name = path.rsplit("/", 1)[-1]
    score = corpus.parse(path)
    parts = list(score.parts)
    if len(parts) != 4:
        stats.skip("not exactly four parts", name)
        return None
    sections = {metre_sections(part, name) for part in parts}
    if len(sections) != 1:
        msg = f"{name}: parts disagree about the time signatures: {sections}"
        raise RuntimeError(msg)
    metres = sections.pop()
    n_steps = round(Fraction(score.highestTime) * STEPS_PER_QUARTER)
    voices = []
    for part in parts:
        label = f"{name} {part.partName or part.id}"
        voices.append(quantise(raw_events(part, name, stats), n_steps, label, stats))
    means = [np.mean([p for p, _ in voice if p != REST]) for voice in voices]
    if not all(upper > lower for upper, lower in itertools.pairwise(means)):
        msg = f"{name}: parts are not ordered from highest to lowest: mean pitches {means}"
        raise RuntimeError(msg)
    downbeats = {first_downbeat_steps(part, bar_steps(metres[0][1])) for part in parts}
    if len(downbeats) != 1:
        msg = f"{name}: parts disagree about the pickup: {downbeats}"
        raise RuntimeError(msg)
    return Chorale(name, n_steps, downbeats.pop(), voices, metres)


def drop_duplicates(chorales: list[Chorale], stats: Stats) -> list[Chorale]:
    """Sort by name and keep the first of any chorales whose quantised music is identical."""
    kept: dict[tuple[Any, ...], Chorale] = {}
    for chorale in sorted(chorales, key=lambda c: c.name):
        key = (chorale.first_downbeat, chorale.metres, tuple(tuple(v) for v in chorale.voices))
        if key in kept:
            stats.duplicates.append((chorale.name, kept[key].name))
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


def encode_other_metres(chorales: list[Chorale]) -> dict[str, NDArray[Any]]:
    """The arrays of ``chorales_other_metres.npz``: those of :func:`encode` and the metres."""
    sections = [section for c in chorales for section in c.metres]
    signatures = [signature for _, signature in sections]
    return {
        **encode(chorales),
        "metre_offsets": np.concatenate([[0], np.cumsum([len(c.metres) for c in chorales])]).astype(
            np.int32
        ),
        "metre_start": np.array([start for start, _ in sections], dtype=np.int32),
        "time_signature": np.array(signatures, dtype=np.str_),
        "steps_per_bar": np.array([bar_steps(s) for s in signatures], dtype=np.int16),
        "steps_per_beat": np.array([beat_steps(s) for s in signatures], dtype=np.int16),
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


def summary(chorales: list[Chorale], stats: Stats, data: bytes, title: str) -> str:
    """A readable account of what one file kept and changed."""
    names = {c.name for c in chorales}

    def own(items: list[str]) -> list[str]:
        return [item for item in items if item.split(" ", 1)[0] in names]

    notes = sum(p != REST for c in chorales for voice in c.voices for p, _ in voice)
    lines = [f"{title}: kept {len(chorales)} chorales, {notes} notes"]
    repeats = total = 0
    for voice_index, voice_name in enumerate(("soprano", "alto", "tenor", "bass")):
        pieces = [[p for p, _ in c.voices[voice_index] if p != REST] for c in chorales]
        flat = [p for piece in pieces for p in piece]
        repeats += sum(a == b for piece in pieces for a, b in itertools.pairwise(piece))
        total += len(flat)
        lines.append(f"  {voice_name:8} MIDI {min(flat)}-{max(flat)}, {len(flat)} notes")
    lines.append(f"  {repeats / total:.1%} of notes repeat the previous pitch of their voice")
    for heading, items in (
        ("off the 16th grid", own(stats.off_grid)),
        ("dropped after rounding to the grid", own(stats.dropped)),
    ):
        lines.append(f"{heading}: {len(items)} notes")
        lines += [f"  {item}" for item in items]
    grace = own(stats.grace)
    lines.append(f"grace notes left out: {len(grace)}")
    lines += [f"  {item}" for item in grace]
    pickups = sum(c.first_downbeat > 0 for c in chorales)
    steps = sum(c.n_steps for c in chorales)
    longest = max(d for c in chorales for voice in c.voices for _, d in voice)
    lines.append(
        f"{pickups} chorales start with a pickup; {steps} steps in all; longest note {longest}"
    )
    by_metre: dict[str, list[str]] = {}
    for chorale in chorales:
        label = " then ".join(signature for _, signature in chorale.metres)
        by_metre.setdefault(label, []).append(chorale.name)
    for label, items in by_metre.items():
        listed = "" if label == COMMON_TIME else f": {' '.join(items)}"
        lines.append(f"  in {label}: {len(items)}{listed}")
    digest = hashlib.sha256(data).hexdigest()[:16]
    lines.append(f"npz: {len(data)} bytes, sha256 {digest}...")
    return "\n".join(lines)


def check_bars(chorales: list[Chorale]) -> list[str]:
    """Metre sections that do not fill whole bars (the last bar of a piece may be short)."""
    problems = []
    for chorale in chorales:
        ends = [start for start, _ in chorale.metres[1:]] + [chorale.n_steps]
        for index, ((start, signature), end) in enumerate(zip(chorale.metres, ends, strict=True)):
            first = start + (chorale.first_downbeat if index == 0 else 0)
            if (end - first) % bar_steps(signature) and end != chorale.n_steps:
                problems.append(f"{chorale.name}: the {signature} section ends inside a bar")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"4/4 file (default {OUT})")
    parser.add_argument(
        "--other-out",
        type=Path,
        default=OTHER_OUT,
        help=f"file of the other metres (default {OTHER_OUT})",
    )
    parser.add_argument(
        "--check", action="store_true", help="compare with the existing files instead of writing"
    )
    args = parser.parse_args(argv)
    stats = Stats()
    began = time.perf_counter()
    parsed = [c for c in (parse(path, stats) for path in chorale_files(stats)) if c is not None]
    seconds = time.perf_counter() - began
    common = drop_duplicates([c for c in parsed if c.in_common_time], stats)
    others = drop_duplicates([c for c in parsed if not c.in_common_time], stats)
    problems = check_bars(others)
    if problems:
        raise RuntimeError("; ".join(problems))
    print(
        f"parsed in {seconds:.0f} s: {stats.numbers} Riemenschneider numbers, {stats.files} files"
    )
    print("\n".join(f"  skipped {len(names)}: {reason}" for reason, names in stats.skipped.items()))
    print("\n".join(f"  skipped {a}: same music as {b}" for a, b in stats.duplicates))
    outputs = []
    for path, chorales, arrays, title in (
        (args.out, common, encode(common), "in 4/4 throughout"),
        (args.other_out, others, encode_other_metres(others), "in other metres"),
    ):
        data = npz_bytes(arrays)
        decode_check(data, chorales)
        print(summary(chorales, stats, data, title))
        outputs.append((path, data))
    if args.check:
        differing = [path for path, data in outputs if not _same(path, data)]
        for path, _ in outputs:
            print(f"{path}: {'DIFFERS' if path in differing else 'identical'}")
        return 1 if differing else 0
    for path, data in outputs:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        print(f"wrote {path}")
    return 0


def _same(path: Path, data: bytes) -> bool:
    return path.is_file() and path.read_bytes() == data


if __name__ == "__main__":
    sys.exit(main())
