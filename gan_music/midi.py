"""MIDI in and out: read a user's melody, write the harmonised result, read and write scores.

mido is an optional extra (``pip install "binomial-gan-music[midi]"``) imported only inside
the functions that need it. Nothing of mido leaks out: a :class:`Melody` holds plain tuples.

The melody is kept as it was played, in the file's own ticks; only the model's copy of it
(:meth:`Melody.to_score`) is quantised to 16th notes. :func:`write_harmony` writes the
original notes back unchanged as the first voice, and the model's alto, tenor and bass below.

>>> import tempfile, pathlib
>>> melody = example_melody()
>>> melody.steps_per_bar, melody.first_downbeat, melody.was_polyphonic
(16, 4, False)
>>> score = melody.to_score()
>>> score.n_voices, score.n_steps
(1, 192)
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_score(folder / "tune.mid", score)
>>> read_score(folder / "tune.mid") == score
True
>>> read_melody(folder / "tune.mid").notes == melody.notes
True
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gan_music._io import atomic_path, read_input
from gan_music.errors import MidiError
from gan_music.pianoroll import REST, STEPS_PER_BAR, STEPS_PER_BEAT, VOICES, Score

TickNote = tuple[int, int, int, int]  #: (start tick, end tick, MIDI pitch, velocity)
MetaEvent = tuple[int, str, dict[str, Any]]  #: (tick, mido meta type, its attributes)

DRUM_CHANNEL = 9  #: General MIDI channel 10, counted from 0
KEPT_META = ("set_tempo", "time_signature", "key_signature")
MAX_FILE_BYTES = 2 * 2**20  #: a melody of several hours is well under a megabyte
MAX_EVENTS = 250_000  #: messages in all tracks; each costs mido about 0.1 ms to read and write
MAX_STEPS = 400_000  #: about 28 hours at quarter = 60: more is a damaged or wrong file
CHOIR_PROGRAM = 52  #: General MIDI "Choir Aahs" (program 53 counted from 1)
MELODY_VELOCITY = 80  #: for melodies made here (the example, write_score)
ACCOMPANIMENT_VELOCITY = 64  #: a little softer than a typical melody, so the tune stands out
EXAMPLE_CHORALE = "bwv244.25"  #: "Was mein Gott will, das gscheh allzeit", in the test split
EXAMPLE_BPM = 80
DEFAULT_TICKS_PER_BEAT = 480


def _mido() -> Any:
    """The mido module, or an ImportError that says how to install it."""
    try:
        import mido
    except ImportError as error:
        msg = 'reading and writing MIDI needs mido: pip install "binomial-gan-music[midi]"'
        raise ImportError(msg) from error
    return mido


@dataclass
class Melody:
    """A melody as read from a MIDI file, with what is needed to write a file of the same shape.

    ``notes`` are ``(start tick, end tick, pitch, velocity)``, sorted by start, exactly as in
    the file (for a polyphonic file: its top line). ``meta`` holds the tempo, time and key
    signature events as ``(tick, type, attributes)``. ``end_tick`` is the length of the file.
    ``steps_per_bar`` (16 for 4/4, 12 for 3/4 or 6/8) comes from the time signature that
    lasts longest, and ``first_downbeat`` is the 16th-note step where its first bar begins,
    modulo a bar: 4 for a melody that opens with a quarter-note pickup.
    """

    notes: list[TickNote]
    ticks_per_beat: int
    meta: list[MetaEvent] = field(default_factory=list)
    end_tick: int = 0
    was_polyphonic: bool = False
    steps_per_bar: int = STEPS_PER_BAR
    first_downbeat: int = 0
    steps_per_beat: int = STEPS_PER_BEAT  #: 4 in simple metres, 6 (a dotted quarter) in 6/8, 12/8

    def __post_init__(self) -> None:
        if self.ticks_per_beat <= 0:
            msg = f"ticks_per_beat must be positive, got {self.ticks_per_beat}"
            raise ValueError(msg)
        last = max((end for _, end, _, _ in self.notes), default=0)
        self.end_tick = max(self.end_tick, last)

    @property
    def n_steps(self) -> int:
        """Length of the file in 16th-note steps, rounded up."""
        return max(1, _ceil_steps(self.end_tick, self.ticks_per_beat))

    def to_score(self) -> Score:
        """The melody as a one-voice :class:`Score` on the 16th grid, covering the whole file.

        Starts and ends are rounded to the nearest step; a note that rounds to nothing still
        gets one step; where two notes start on the same step the longer one is kept, and a
        note ends where the next one begins, so the result is monophonic.

        >>> Melody([(0, 100, 60, 90), (120, 480, 62, 90)], ticks_per_beat=480).to_score().pitch[:, 0]
        array([60, 62, 62, 62], dtype=int16)
        """
        n_steps = _score_length(self.end_tick, self.ticks_per_beat, [self.notes])
        pitch, onset = _quantise(self.notes, self.ticks_per_beat, n_steps)
        return Score(pitch[:, None], onset[:, None])


def read_melody(path: str | os.PathLike[str]) -> Melody:
    """Read a melody from a type 0 or 1 MIDI file of any length, tempo, key and metre.

    Notes of every track and channel count, except drums (channel 10). A file with several
    notes at once gives its top line (the highest note sounding at each onset) and sets
    ``was_polyphonic``; overlaps shorter than a 32nd note count as legato, not as chords.
    Any problem with the file raises :class:`MidiError` with a one-line message.
    """
    source = Path(path)
    return _melody_of(_load(source), str(source))


def read_melody_bytes(data: bytes, name: str = "the file") -> Melody:
    """Like :func:`read_melody`, for the bytes of a MIDI file held in memory (an upload).

    ``name`` stands for the file in error messages.

    >>> read_melody_bytes(b"hello", "notes.txt")
    Traceback (most recent call last):
    ...
    gan_music.errors.MidiError: notes.txt is not a MIDI file (no 'MThd' header): give a standard MIDI file (.mid)
    """
    if len(data) > MAX_FILE_BYTES:
        msg = f"{name} is {len(data) // 2**20} MB, too big for a melody: give a smaller MIDI file"
        raise MidiError(msg)
    return _melody_of(_parse_bytes(_unwrap_riff(data), name), name)


def melody_from_notes(
    notes: Sequence[TickNote],
    ticks_per_beat: int,
    meta: Sequence[MetaEvent] = (),
    end_tick: int = 0,
    name: str = "the melody",
) -> Melody:
    """A :class:`Melody` from notes and meta events, read as :func:`read_melody` reads a file.

    The top line is kept, the length checked, and the metre taken from the time signatures.

    >>> melody = melody_from_notes([(0, 480, 60, 80), (480, 960, 62, 80)], 480)
    >>> melody.steps_per_bar, melody.first_downbeat, melody.n_steps
    (16, 0, 8)
    """
    if not notes:
        msg = f"{name} has no notes: give a MIDI file that holds a melody"
        raise MidiError(msg)
    line, polyphonic = _skyline(notes, tolerance=ticks_per_beat // 8)
    end_tick = max(end_tick, *(end for _, end, _, _ in line))
    _check_length(name, end_tick, ticks_per_beat)
    meta = sorted(meta, key=lambda event: event[0])
    steps_per_bar, first_downbeat, steps_per_beat = _metre(meta, end_tick, ticks_per_beat)
    return Melody(
        notes=line,
        ticks_per_beat=ticks_per_beat,
        meta=meta,
        end_tick=end_tick,
        was_polyphonic=polyphonic,
        steps_per_bar=steps_per_bar,
        first_downbeat=first_downbeat,
        steps_per_beat=steps_per_beat,
    )


def _melody_of(midi: Any, name: str) -> Melody:
    """The melody of a parsed file (see :func:`read_melody`)."""
    tracks, meta, end_tick, drums = _parse(midi)
    notes = [note for track in tracks for note in track]
    if not notes and drums:
        msg = f"{name} holds only drums (channel 10): give a file with a melody on another channel"
        raise MidiError(msg)
    return melody_from_notes(notes, midi.ticks_per_beat, meta, end_tick, name)


def read_score(path: str | os.PathLike[str]) -> Score:
    """Read a multi-voice file such as :func:`write_score` writes: one voice per track.

    Every track with notes or a program change outside the drum channel is a voice, in track
    order; each is reduced to its top line and quantised like :meth:`Melody.to_score`.
    """
    source = Path(path)
    midi = _load(source)
    voice_tracks = [index for index, track in enumerate(midi.tracks) if _is_voice_track(track)]
    tracks, _, end_tick, _ = _parse(midi)
    voices = [_skyline(tracks[index], midi.ticks_per_beat // 8)[0] for index in voice_tracks]
    if not any(voices):
        msg = f"{source} has no notes: give a MIDI file with one voice per track"
        raise MidiError(msg)
    _check_length(source, end_tick, midi.ticks_per_beat)
    n_steps = _score_length(end_tick, midi.ticks_per_beat, voices)
    columns = [_quantise(notes, midi.ticks_per_beat, n_steps) for notes in voices]
    return Score(
        np.stack([pitch for pitch, _ in columns], axis=1),
        np.stack([onset for _, onset in columns], axis=1),
    )


def write_harmony(
    path: str | os.PathLike[str], melody: Melody, accompaniment: Score, *, force: bool = False
) -> None:
    """Write the melody and a three-voice accompaniment as a type-1 MIDI file of five tracks.

    Track 0 holds the melody's tempo, time and key signatures; track 1 the melody's own notes,
    unchanged; tracks 2-4 the alto, tenor and bass of ``accompaniment`` (a Score on the
    melody's 16th grid, cut at the melody's length). Every track ends where the input did.
    The file is written whole or not at all, and an existing file only with ``force``.
    """
    _save(path, _harmony_file(melody, accompaniment), force=force)


def harmony_bytes(melody: Melody, accompaniment: Score) -> bytes:
    """The bytes of the file :func:`write_harmony` writes, made in memory (for a download)."""
    buffer = io.BytesIO()
    _harmony_file(melody, accompaniment).save(file=buffer)
    return buffer.getvalue()


def _harmony_file(melody: Melody, accompaniment: Score) -> Any:
    """The mido file of a melody and its three-voice accompaniment (see write_harmony)."""
    if accompaniment.n_voices != 3:
        msg = f"the accompaniment needs 3 voices (alto, tenor, bass), got {accompaniment.n_voices}"
        raise ValueError(msg)
    tpb = melody.ticks_per_beat
    parts = [(VOICES[0], list(melody.notes))]
    for voice in range(3):
        notes = _voice_ticks(accompaniment, voice, tpb, ACCOMPANIMENT_VELOCITY, melody.end_tick)
        parts.append((VOICES[voice + 1], notes))
    return _midi_file(tpb, melody.meta, parts, melody.end_tick)


def write_score(
    path: str | os.PathLike[str],
    score: Score,
    *,
    ticks_per_beat: int = DEFAULT_TICKS_PER_BEAT,
    bpm: float = 90,
    first_downbeat: int = 0,
    force: bool = False,
) -> None:
    """Write a Score as a type-1 MIDI file in 4/4: a tempo track, then one track per voice.

    With ``first_downbeat`` > 0 the file opens with a pickup bar of that many 16th notes,
    so bar lines fall where they do in the score. :func:`read_score` reads the file back equal.
    """
    if ticks_per_beat <= 0 or ticks_per_beat % STEPS_PER_BEAT or not 0 < bpm < 10_000:
        msg = (
            "ticks_per_beat must be a positive multiple of 4 and bpm between 0 and 10000, "
            f"got {ticks_per_beat} and {bpm}"
        )
        raise ValueError(msg)
    end_tick = _step_tick(score.n_steps, ticks_per_beat)
    meta = _metre_events(ticks_per_beat, bpm, first_downbeat)
    names = (
        VOICES
        if score.n_voices == len(VOICES)
        else [f"voice {v + 1}" for v in range(score.n_voices)]
    )
    parts = [
        (name, _voice_ticks(score, voice, ticks_per_beat, MELODY_VELOCITY, end_tick))
        for voice, name in enumerate(names)
    ]
    _save(path, _midi_file(ticks_per_beat, meta, parts, end_tick), force=force)


def example_melody() -> Melody:
    """The soprano of Bach's chorale BWV 244.25, a tune the shipped model never trained on.

    >>> melody = example_melody()
    >>> len(melody.notes), melody.ticks_per_beat, melody.notes[0]
    (50, 480, (0, 240, 66, 80))
    """
    from gan_music.dataset import load_chorales, split_chorales

    test = {chorale.name: chorale for chorale in split_chorales(load_chorales())["test"]}
    chorale = test[EXAMPLE_CHORALE]
    tpb = DEFAULT_TICKS_PER_BEAT
    notes = [
        (_step_tick(start, tpb), _step_tick(start + length, tpb), pitch, MELODY_VELOCITY)
        for voice, start, length, pitch in chorale.score.to_notes()
        if voice == 0 and pitch != REST
    ]
    return Melody(
        notes=notes,
        ticks_per_beat=tpb,
        meta=_metre_events(tpb, EXAMPLE_BPM, chorale.first_downbeat),
        end_tick=_step_tick(chorale.score.n_steps, tpb),
        steps_per_bar=STEPS_PER_BAR,
        first_downbeat=chorale.first_downbeat,
    )


# Reading --------------------------------------------------------------------------------------


def _load(source: Path) -> Any:
    """Parse ``source`` with mido, turning every way a file can be bad into a MidiError."""
    data = _unwrap_riff(
        read_input(source, kind="a MIDI file", limit=MAX_FILE_BYTES, error=MidiError)
    )
    return _parse_bytes(data, str(source))


def _parse_bytes(data: bytes, source: str) -> Any:
    """Parse the bytes of a standard MIDI file with mido; every fault becomes a MidiError."""
    if not data.startswith(b"MThd"):
        msg = f"{source} is not a MIDI file (no 'MThd' header): give a standard MIDI file (.mid)"
        raise MidiError(msg)
    mido = _mido()
    try:
        midi = mido.MidiFile(file=io.BytesIO(data))
    except Exception as error:  # noqa: BLE001  # mido raises many types on damaged input
        reason = str(error).splitlines()[0][:80] if str(error) else type(error).__name__
        msg = (
            f"{source} is damaged or truncated ({reason}): export it again from your music program"
        )
        raise MidiError(msg) from None
    events = sum(len(track) for track in midi.tracks)
    if events > MAX_EVENTS:
        msg = (
            f"{source} holds {events} MIDI events, more than the {MAX_EVENTS} accepted: "
            "remove controller or tempo data you do not need, or split the file"
        )
        raise MidiError(msg)
    if midi.type == 2:
        msg = f"{source} is a type 2 MIDI file (separate patterns): save it as type 0 or 1"
        raise MidiError(msg)
    if midi.ticks_per_beat == 0:
        msg = (
            f"{source} says its ticks per beat is 0 (the MThd header's division), so no note "
            "has a length: the file is damaged; export it again from your music program"
        )
        raise MidiError(msg)
    if not 0 < midi.ticks_per_beat < 0x8000:
        msg = f"{source} counts time in SMPTE frames, not beats: save it with a tempo-based clock"
        raise MidiError(msg)
    return midi


def _unwrap_riff(data: bytes) -> bytes:
    """The standard MIDI file inside a RIFF ``RMID`` wrapper; other data unchanged."""
    if data[:4] == b"RIFF" and data[8:12] == b"RMID":
        start = data.find(b"MThd")
        return data[start:] if start >= 0 else data
    return data


def _parse(midi: Any) -> tuple[list[list[TickNote]], list[MetaEvent], int, int]:
    """Per track its notes; the kept meta events; the file's length in ticks; drum notes seen."""
    tracks: list[list[TickNote]] = []
    meta: list[MetaEvent] = []
    seen: set[tuple[int, str, tuple[tuple[str, Any], ...]]] = set()
    end_tick = drums = 0
    for track in midi.tracks:
        notes, track_meta, track_end, track_drums = _track_notes(track)
        tracks.append(notes)
        for event in track_meta:  # the same event in several tracks is kept once, the first time
            key = (event[0], event[1], tuple(sorted(event[2].items())))
            if key not in seen:
                seen.add(key)
                meta.append(event)
        end_tick = max(end_tick, track_end)
        drums += track_drums
    meta.sort(key=lambda event: event[0])
    return tracks, meta, end_tick, drums


def _track_notes(track: Any) -> tuple[list[TickNote], list[MetaEvent], int, int]:
    """Pair note-ons with note-offs in one track (velocity 0 ends a note; drums are counted)."""
    tick = drums = 0
    sounding: dict[tuple[int, int], tuple[int, int]] = {}
    notes: list[TickNote] = []
    meta: list[MetaEvent] = []
    for message in track:
        tick += message.time
        if message.is_meta:
            if message.type in KEPT_META:
                attributes = {k: v for k, v in message.dict().items() if k not in ("type", "time")}
                meta.append((tick, message.type, attributes))
            continue
        if message.type not in ("note_on", "note_off"):
            continue
        if message.channel == DRUM_CHANNEL:
            drums += message.type == "note_on" and message.velocity > 0
            continue
        key = (message.channel, message.note)
        if key in sounding:  # a note-off, or the same key struck again: the old note ends
            start, velocity = sounding.pop(key)
            notes.append((start, tick, message.note, velocity))
        if message.type == "note_on" and message.velocity > 0:
            sounding[key] = (tick, message.velocity)
    notes.extend((start, tick, key[1], velocity) for key, (start, velocity) in sounding.items())
    notes = [note for note in notes if note[1] > note[0]]
    notes.sort()
    return notes, meta, tick, drums


def _skyline(notes: Sequence[TickNote], tolerance: int) -> tuple[list[TickNote], bool]:
    """The top line of ``notes`` and whether any other pitch sounded with it.

    At each onset the highest note wins; a higher note cuts the one sounding; a lower note
    that starts under a sounding one is left out. An overlap of at most ``tolerance`` ticks
    is legato and changes nothing, except that a repeated pitch ends where it starts again.
    """
    line: list[list[int]] = []
    polyphonic = False
    for start, end, pitch, velocity in sorted(notes, key=lambda n: (n[0], -n[2], n[0] - n[1])):
        if line:
            previous = line[-1]
            if previous[0] == start:
                polyphonic |= pitch != previous[2]
                continue
            if previous[1] > start + tolerance and pitch < previous[2]:
                polyphonic = True
                continue
            if previous[1] > start:
                polyphonic |= previous[1] > start + tolerance and pitch != previous[2]
                if pitch == previous[2] or previous[1] > start + tolerance:
                    previous[1] = start
        line.append([start, end, pitch, velocity])
    return [(s, e, p, v) for s, e, p, v in line], polyphonic


def _is_voice_track(track: Any) -> bool:
    return any(
        message.type in ("note_on", "program_change") and message.channel != DRUM_CHANNEL
        for message in track
        if not message.is_meta and hasattr(message, "channel")
    )


def _metre(meta: Sequence[MetaEvent], end_tick: int, ticks_per_beat: int) -> tuple[int, int, int]:
    """``(steps_per_bar, first_downbeat, steps_per_beat)`` of the longest-lasting time signature.

    Bars restart at every time signature; with none the file is in 4/4 from tick 0. A pickup
    written as a short first bar (1/4 before 4/4) gives the step where the full bars begin.
    """
    changes = {0: (4, 4)}
    for tick, kind, attributes in meta:
        if kind == "time_signature" and attributes["numerator"] > 0:
            changes[tick] = (attributes["numerator"], attributes["denominator"])
    ticks = sorted(changes)
    lasting: dict[tuple[int, int], int] = {}
    for tick, following in zip(ticks, [*ticks[1:], max(end_tick, ticks[-1])], strict=True):
        lasting[changes[tick]] = lasting.get(changes[tick], 0) + following - tick
    numerator, denominator = main = max(lasting, key=lambda signature: lasting[signature])
    steps_per_bar = max(1, round(numerator * STEPS_PER_BEAT * 4 / denominator))
    first = next(tick for tick in ticks if changes[tick] == main)
    downbeat = int(_round_steps(np.array([first]), ticks_per_beat)[0]) % steps_per_bar
    return steps_per_bar, downbeat, beat_of_signature(numerator, denominator)


def beat_of_signature(numerator: int, denominator: int) -> int:
    """The beat of a time signature in sixteenths: compound metres beat in dotted notes.

    >>> [beat_of_signature(*s) for s in [(2, 4), (3, 4), (4, 4), (6, 8), (12, 8), (2, 2)]]
    [4, 4, 4, 6, 6, 8]
    """
    unit = STEPS_PER_BEAT * 4 / denominator
    compound = numerator % 3 == 0 and numerator > 3
    return max(1, round(3 * unit if compound else unit))


def _check_length(source: Path | str, end_tick: int, ticks_per_beat: int) -> None:
    steps = _ceil_steps(end_tick, ticks_per_beat)
    if steps > MAX_STEPS:
        msg = (
            f"{source} lasts {steps} sixteenth notes, more than the {MAX_STEPS} accepted: "
            "check its timing or split it into shorter files"
        )
        raise MidiError(msg)


# Ticks and steps ------------------------------------------------------------------------------


def _round_steps(ticks: NDArray[np.int64], ticks_per_beat: int) -> NDArray[np.int64]:
    """Nearest 16th-note step of each tick (halves round up), in exact integer arithmetic."""
    return (8 * np.asarray(ticks, dtype=np.int64) + ticks_per_beat) // (2 * ticks_per_beat)


def _ceil_steps(tick: int, ticks_per_beat: int) -> int:
    return -(-STEPS_PER_BEAT * tick // ticks_per_beat)


def _step_tick(step: int, ticks_per_beat: int) -> int:
    """The tick of a 16th-note step (rounded when ``ticks_per_beat`` is not a multiple of 4)."""
    return (2 * step * ticks_per_beat + STEPS_PER_BEAT) // (2 * STEPS_PER_BEAT)


def _score_length(end_tick: int, ticks_per_beat: int, voices: Sequence[Sequence[TickNote]]) -> int:
    """Steps that cover the file and every quantised note (each at least one step long)."""
    n_steps = max(1, _ceil_steps(end_tick, ticks_per_beat))
    for notes in voices:
        if notes:
            table = np.array(notes, dtype=np.int64)
            starts = _round_steps(table[:, 0], ticks_per_beat)
            ends = _round_steps(table[:, 1], ticks_per_beat)
            n_steps = max(n_steps, int(np.maximum(ends, starts + 1).max()))
    return n_steps


def _quantise(
    notes: Sequence[TickNote], ticks_per_beat: int, n_steps: int
) -> tuple[NDArray[np.int16], NDArray[np.bool_]]:
    """Pitch and onset columns of ``n_steps`` steps for a line of notes (see Melody.to_score)."""
    pitch = np.full(n_steps, REST, dtype=np.int16)
    onset = np.zeros(n_steps, dtype=bool)
    if not notes:
        return pitch, onset
    table = np.array(notes, dtype=np.int64)
    start = _round_steps(table[:, 0], ticks_per_beat)
    end = np.maximum(_round_steps(table[:, 1], ticks_per_beat), start + 1)
    order = np.lexsort((-table[:, 2], table[:, 0] - table[:, 1], start))  # by step, longest first
    start, end, midi = start[order], end[order], table[order, 2]
    first = np.ones(len(start), dtype=bool)
    first[1:] = start[1:] != start[:-1]
    start, end, midi = start[first], np.minimum(end[first], n_steps), midi[first]
    end[:-1] = np.minimum(end[:-1], start[1:])
    length = end - start
    steps = np.repeat(start - np.cumsum(length) + length, length) + np.arange(length.sum())
    pitch[steps] = np.repeat(midi, length)
    onset[start] = True
    return pitch, onset


# Writing --------------------------------------------------------------------------------------


def _voice_ticks(
    score: Score, voice: int, ticks_per_beat: int, velocity: int, end_tick: int
) -> list[TickNote]:
    """One voice of a score as tick notes, cut at ``end_tick``."""
    notes = []
    for _, start, length, pitch in (n for n in score.to_notes() if n[0] == voice):
        on = _step_tick(start, ticks_per_beat)
        off = min(_step_tick(start + length, ticks_per_beat), end_tick)
        if off > on:
            notes.append((on, off, pitch, velocity))
    return notes


def _metre_events(
    ticks_per_beat: int, bpm: float, first_downbeat: int, numerator: int = 4, denominator: int = 4
) -> list[MetaEvent]:
    """Tempo and time signature (4/4 unless told), after a pickup of ``first_downbeat`` 16ths."""
    events: list[MetaEvent] = [(0, "set_tempo", {"tempo": round(60_000_000 / bpm)})]  # us/beat
    signature = {
        "numerator": numerator,
        "denominator": denominator,
        "clocks_per_click": 24,
        "notated_32nd_notes_per_beat": 8,
    }
    steps_per_bar = numerator * STEPS_PER_BAR // denominator
    if first_downbeat % steps_per_bar:
        steps = first_downbeat % steps_per_bar
        pickup = (steps // 4, 4) if steps % 4 == 0 else (steps, 16)
        events.append(
            (0, "time_signature", {**signature, "numerator": pickup[0], "denominator": pickup[1]})
        )
        events.append((_step_tick(steps, ticks_per_beat), "time_signature", signature))
    else:
        events.append((0, "time_signature", signature))
    return events


def _save(path: str | os.PathLike[str], midi: Any, *, force: bool) -> None:
    """Write a mido file whole or not at all."""
    with atomic_path(path, force=force) as tmp:
        midi.save(tmp)


def _midi_file(
    ticks_per_beat: int,
    meta: Sequence[MetaEvent],
    parts: Sequence[tuple[str, Sequence[TickNote]]],
    end_tick: int,
) -> Any:
    """A type-1 file: a conductor track with ``meta``, then one named track per part."""
    mido = _mido()
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    conductor = [(tick, 0, mido.MetaMessage(kind, **attributes)) for tick, kind, attributes in meta]
    midi.tracks.append(_track(mido, "conductor", conductor, end_tick))
    for channel, (name, notes) in enumerate(parts):
        events = [(0, 0, mido.Message("program_change", channel=channel, program=CHOIR_PROGRAM))]
        for start, end, pitch, velocity in notes:
            events.append(
                (start, 2, mido.Message("note_on", channel=channel, note=pitch, velocity=velocity))
            )
            events.append(
                (end, 1, mido.Message("note_off", channel=channel, note=pitch, velocity=0))
            )
        midi.tracks.append(_track(mido, name, events, end_tick))
    return midi


def _track(mido: Any, name: str, events: list[tuple[int, int, Any]], end_tick: int) -> Any:
    """A named track of ``(tick, order, message)`` events: at one tick note-offs come first."""
    track = mido.MidiTrack([mido.MetaMessage("track_name", name=name)])
    now = 0
    for tick, _, message in sorted(events, key=lambda event: event[:2]):
        track.append(message.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(0, end_tick - now)))
    return track
