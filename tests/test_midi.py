"""MIDI in and out: melodies read as played, harmonies written around them unchanged, bad files refused.

Every fixture is built here with mido, so the tests show exactly what each file holds.
"""

from __future__ import annotations

import random
import struct
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gan_music import midi
from gan_music.dataset import load_chorales, split_chorales
from gan_music.errors import MidiError, OutputError
from gan_music.pianoroll import REST, Score

mido = pytest.importorskip("mido")

Event = tuple[int, Any]  # (absolute tick, mido message)


def note(start: int, end: int, pitch: int, velocity: int = 90, channel: int = 0) -> list[Event]:
    return [
        (start, mido.Message("note_on", note=pitch, velocity=velocity, channel=channel)),
        (end, mido.Message("note_off", note=pitch, velocity=0, channel=channel)),
    ]


def meta(tick: int, kind: str, **attributes: Any) -> list[Event]:
    return [(tick, mido.MetaMessage(kind, **attributes))]


def save(
    path: Path,
    tracks: Sequence[Sequence[Event]],
    ticks_per_beat: int = 480,
    file_type: int = 1,
    end: int | None = None,
) -> Path:
    """Write tracks of absolute-tick events (note-offs first at equal ticks) as a MIDI file."""
    midi_file = mido.MidiFile(type=file_type, ticks_per_beat=ticks_per_beat)
    for events in tracks:
        track = mido.MidiTrack()
        now = 0
        order = sorted(events, key=lambda e: (e[0], e[1].type != "note_off"))
        for tick, message in order:
            track.append(message.copy(time=tick - now))
            now = tick
        track.append(mido.MetaMessage("end_of_track", time=max(0, (end or now) - now)))
        midi_file.tracks.append(track)
    midi_file.save(path)
    return path


def melody_events(notes: Sequence[midi.TickNote], channel: int = 0) -> list[Event]:
    return [e for s, t, p, v in notes for e in note(s, t, p, v, channel)]


def tracks_of(path: Path) -> list[list[tuple[int, Any]]]:
    """Each track of a file as (absolute tick, message) pairs."""
    result = []
    for track in mido.MidiFile(path).tracks:
        tick, events = 0, []
        for message in track:
            tick += message.time
            events.append((tick, message))
        result.append(events)
    return result


def notes_of(events: Sequence[tuple[int, Any]]) -> list[midi.TickNote]:
    sounding: dict[int, tuple[int, int]] = {}
    found = []
    for tick, message in events:
        if message.type == "note_on" and message.velocity > 0:
            sounding[message.note] = (tick, message.velocity)
        elif message.type in ("note_on", "note_off") and message.note in sounding:
            start, velocity = sounding.pop(message.note)
            found.append((start, tick, message.note, velocity))
    return sorted(found)


# A melody played by a person: off the grid, uneven velocities, a repeated note, a rest.
PLAYED = [
    (0, 230, 67, 71),
    (240, 470, 67, 80),
    (480, 955, 69, 95),
    (960, 1190, 71, 88),
    (1450, 1900, 72, 100),
    (1920, 2870, 71, 60),
]


@pytest.fixture
def played(tmp_path: Path) -> Path:
    conductor = meta(0, "set_tempo", tempo=600_000) + meta(
        0, "time_signature", numerator=4, denominator=4
    )
    return save(tmp_path / "played.mid", [conductor, melody_events(PLAYED)], end=3840)


def random_score(rng: np.random.Generator, n_steps: int, n_voices: int) -> Score:
    notes = []
    for voice in range(n_voices):
        step = 0
        while step < n_steps:
            length = int(rng.integers(1, 6))
            if rng.random() > 0.15:
                pitch = int(rng.integers(40 + 6 * voice, 52 + 6 * voice))
                notes.append((voice, step, min(length, n_steps - step), pitch))
            step += length
    return Score.from_notes(n_steps, notes, n_voices)


# Reading ---------------------------------------------------------------------------------------


def test_a_played_melody_is_read_exactly(played: Path) -> None:
    melody = midi.read_melody(played)
    assert melody.notes == PLAYED
    assert melody.ticks_per_beat == 480
    assert melody.end_tick == 3840
    assert not melody.was_polyphonic
    assert (melody.steps_per_bar, melody.first_downbeat) == (16, 0)
    assert (0, "set_tempo", {"tempo": 600_000}) in melody.meta


def test_to_score_quantises_to_sixteenths_and_covers_the_file(played: Path) -> None:
    score = midi.read_melody(played).to_score()
    assert score.n_voices == 1
    assert score.n_steps == 32  # 3840 ticks at 120 per step, trailing silence included
    assert score.to_notes() == [
        (0, 0, 2, 67),
        (0, 2, 2, 67),  # the repeated note keeps its own onset
        (0, 4, 4, 69),
        (0, 8, 2, 71),
        (0, 12, 4, 72),
        (0, 16, 8, 71),
    ]
    assert (score.pitch[24:, 0] == REST).all()


def test_to_score_keeps_tiny_notes_and_stays_monophonic() -> None:
    melody = midi.Melody(
        [(0, 10, 60, 90), (250, 500, 62, 90), (470, 700, 64, 90), (700, 712, 65, 90)],
        ticks_per_beat=480,
        end_tick=960,
    )
    assert melody.to_score().to_notes() == [
        (0, 0, 1, 60),  # shorter than a step: one step
        (0, 2, 2, 62),  # overlapped by the next note: ends where it starts
        (0, 4, 2, 64),
        (0, 6, 1, 65),
    ]


def test_notes_on_one_step_keep_the_longest() -> None:
    grace_then_main = midi.Melody([(470, 478, 72, 90), (480, 960, 71, 90)], ticks_per_beat=480)
    assert grace_then_main.to_score().to_notes() == [(0, 4, 4, 71)]


def test_velocity_zero_note_on_ends_a_note(tmp_path: Path) -> None:
    events = [
        (0, mido.Message("note_on", note=60, velocity=80)),
        (480, mido.Message("note_on", note=60, velocity=0)),
        (480, mido.Message("note_on", note=62, velocity=81)),
        (960, mido.Message("note_on", note=62, velocity=0)),
    ]
    melody = midi.read_melody(save(tmp_path / "v0.mid", [events], file_type=0))
    assert melody.notes == [(0, 480, 60, 80), (480, 960, 62, 81)]
    assert not melody.was_polyphonic


def test_the_melody_may_be_on_any_track_and_channel_and_drums_are_ignored(tmp_path: Path) -> None:
    tracks = [
        meta(0, "set_tempo", tempo=500_000),
        [e for beat in range(4) for e in note(beat * 480, beat * 480 + 60, 36, channel=9)],
        melody_events(PLAYED, channel=5),
    ]
    melody = midi.read_melody(save(tmp_path / "any.mid", tracks))
    assert melody.notes == PLAYED
    assert not melody.was_polyphonic


def test_polyphonic_file_gives_its_top_line(tmp_path: Path) -> None:
    tune = [(0, 480, 72, 90), (480, 960, 74, 90), (960, 1920, 76, 90)]
    chords = [
        e
        for start, pitches in ((0, (60, 64, 67)), (960, (62, 65, 69)))
        for pitch in pitches
        for e in note(start, start + 960, pitch, 70, channel=1)
    ]
    path = save(tmp_path / "chords.mid", [melody_events(tune), chords])
    melody = midi.read_melody(path)
    assert melody.was_polyphonic
    assert melody.notes == tune


def test_higher_note_cuts_the_one_below_in_the_top_line(tmp_path: Path) -> None:
    events = note(0, 960, 60) + note(480, 720, 67)
    melody = midi.read_melody(save(tmp_path / "cut.mid", [events], file_type=0))
    assert melody.was_polyphonic
    assert melody.notes == [(0, 480, 60, 90), (480, 720, 67, 90)]


def test_legato_overlap_is_not_polyphony(tmp_path: Path) -> None:
    legato = [(0, 500, 64, 90), (480, 980, 62, 90), (960, 1440, 60, 90)]
    melody = midi.read_melody(save(tmp_path / "legato.mid", [melody_events(legato)]))
    assert not melody.was_polyphonic
    assert melody.notes == legato
    assert melody.to_score().to_notes() == [(0, 0, 4, 64), (0, 4, 4, 62), (0, 8, 4, 60)]


def test_tempo_and_time_signature_changes_are_kept(tmp_path: Path) -> None:
    conductor = (
        meta(0, "set_tempo", tempo=500_000)
        + meta(0, "time_signature", numerator=4, denominator=4)
        + meta(0, "key_signature", key="Eb")
        + meta(1920, "set_tempo", tempo=400_000)
        + meta(1920, "time_signature", numerator=3, denominator=4)
        + meta(3360, "time_signature", numerator=4, denominator=4)
    )
    tune = [(i * 480, i * 480 + 480, 60 + i % 5, 90) for i in range(12)]
    melody = midi.read_melody(save(tmp_path / "changes.mid", [conductor, melody_events(tune)]))
    kinds = [(tick, kind) for tick, kind, _ in melody.meta]
    assert kinds == [
        (0, "set_tempo"),
        (0, "time_signature"),
        (0, "key_signature"),
        (1920, "set_tempo"),
        (1920, "time_signature"),
        (3360, "time_signature"),
    ]
    assert (melody.steps_per_bar, melody.first_downbeat) == (16, 0)  # 4/4 lasts longest
    out = tmp_path / "changes-out.mid"
    midi.write_harmony(out, melody, Score.from_notes(melody.n_steps, [], n_voices=3))
    copied = [(t, m.type, m.dict()) for t, m in tracks_of(out)[0] if m.type in midi.KEPT_META]
    original = [(t, m.type, m.dict()) for t, m in tracks_of(tmp_path / "changes.mid")[0]]
    assert copied == [(t, kind, attrs) for t, kind, attrs in original if kind in midi.KEPT_META]


@pytest.mark.parametrize(
    ("signatures", "expected"),
    [
        ([], (16, 0)),
        ([(0, 3, 4)], (12, 0)),
        ([(0, 6, 8)], (12, 0)),
        ([(0, 2, 2)], (16, 0)),
        ([(0, 1, 4), (480, 3, 4)], (12, 4)),  # a quarter-note pickup, then 3/4
        ([(0, 2, 4), (960, 4, 4)], (16, 8)),  # a half-note pickup, then 4/4
    ],
)
def test_metre_and_pickup_come_from_the_time_signatures(
    tmp_path: Path, signatures: list[tuple[int, int, int]], expected: tuple[int, int]
) -> None:
    melody = _melody_in_metre(tmp_path, signatures)
    assert (melody.steps_per_bar, melody.first_downbeat) == expected


def _melody_in_metre(tmp_path: Path, signatures: list[tuple[int, int, int]]) -> midi.Melody:
    """A tune of 48 eighth notes under the given ``(tick, numerator, denominator)`` signatures."""
    conductor = [
        e
        for tick, n, d in signatures
        for e in meta(tick, "time_signature", numerator=n, denominator=d)
    ]
    tune = [(i * 240, i * 240 + 240, 62 + i % 3, 90) for i in range(48)]
    return midi.read_melody(save(tmp_path / "metre.mid", [conductor, melody_events(tune)]))


@pytest.mark.parametrize(
    ("signatures", "beat"),
    [
        ([], 4),
        ([(0, 2, 4)], 4),
        ([(0, 3, 4)], 4),
        ([(0, 6, 8)], 6),  # compound: the beat is a dotted quarter
        ([(0, 12, 8)], 6),
        ([(0, 1, 8), (240, 6, 8)], 6),  # an eighth-note pickup, then 6/8
    ],
)
def test_the_beat_comes_from_the_time_signature(
    tmp_path: Path, signatures: list[tuple[int, int, int]], beat: int
) -> None:
    assert _melody_in_metre(tmp_path, signatures).steps_per_beat == beat


def test_an_hour_long_melody_reads_whole(tmp_path: Path) -> None:
    beats = 7200  # one hour at quarter = 120, in eighth notes
    tune = [(i * 240, i * 240 + 230, 60 + (i * 7) % 24, 90) for i in range(2 * beats)]
    path = save(tmp_path / "hour.mid", [melody_events(tune)], ticks_per_beat=480)
    melody = midi.read_melody(path)
    score = melody.to_score()
    assert len(melody.notes) == 2 * beats
    assert score.n_steps == 4 * beats
    assert score.onset[::2, 0].all()


def test_a_riff_wrapped_file_is_read(tmp_path: Path, played: Path) -> None:
    data = played.read_bytes()
    chunk = b"data" + struct.pack("<I", len(data)) + data
    wrapped = tmp_path / "wrapped.rmi"
    wrapped.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"RMID" + chunk)
    assert midi.read_melody(wrapped).notes == PLAYED


# Writing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_write_score_then_read_score_round_trips(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    score = random_score(rng, n_steps=int(rng.integers(20, 90)), n_voices=4)
    path = tmp_path / "score.mid"
    midi.write_score(path, score, ticks_per_beat=[480, 96, 4, 960][seed], first_downbeat=seed * 4)
    assert midi.read_score(path) == score


def test_a_silent_voice_survives_the_round_trip(tmp_path: Path) -> None:
    score = Score.from_notes(16, [(0, 0, 16, 72), (2, 4, 4, 50)], n_voices=3)
    midi.write_score(tmp_path / "rests.mid", score)
    back = midi.read_score(tmp_path / "rests.mid")
    assert back == score
    assert (back.pitch[:, 1] == REST).all()


def test_bach_round_trips_through_a_file(tmp_path: Path) -> None:
    chorale = load_chorales()[7]
    midi.write_score(tmp_path / "bach.mid", chorale.score, first_downbeat=chorale.first_downbeat)
    assert midi.read_score(tmp_path / "bach.mid") == chorale.score
    melody = midi.read_melody(tmp_path / "bach.mid")  # the top line is the soprano
    assert melody.first_downbeat == chorale.first_downbeat
    assert np.array_equal(melody.to_score().pitch[:, 0], chorale.score.pitch[:, 0])


def accompaniment_for(melody: midi.Melody, seed: int = 0) -> Score:
    return random_score(np.random.default_rng(seed), melody.n_steps, n_voices=3)


def test_write_harmony_keeps_the_melody_unchanged(tmp_path: Path, played: Path) -> None:
    melody = midi.read_melody(played)
    accompaniment = accompaniment_for(melody)
    out = tmp_path / "harmony.mid"
    midi.write_harmony(out, melody, accompaniment)
    written = mido.MidiFile(out)
    assert written.type == 1
    assert written.ticks_per_beat == 480
    tracks = tracks_of(out)
    assert len(tracks) == 5
    assert notes_of(tracks[1]) == PLAYED
    names = [next(m.name for _, m in events if m.type == "track_name") for events in tracks]
    assert names[1:] == ["soprano", "alto", "tenor", "bass"]
    channels = [{m.channel for _, m in events if hasattr(m, "channel")} for events in tracks[1:]]
    assert channels == [{0}, {1}, {2}, {3}]
    programs = [[m.program for _, m in events if m.type == "program_change"] for events in tracks]
    assert programs[1:] == [[midi.CHOIR_PROGRAM]] * 4
    assert [(events[-1][0], events[-1][1].type) for events in tracks] == [
        (3840, "end_of_track")
    ] * 5
    assert midi.read_score(out).pitch[:, 1:].tolist() == accompaniment.pitch.tolist()


def test_note_offs_come_before_note_ons_at_the_same_tick(tmp_path: Path, played: Path) -> None:
    melody = midi.read_melody(played)
    out = tmp_path / "order.mid"
    midi.write_harmony(out, melody, accompaniment_for(melody, seed=3))
    for events in tracks_of(out)[1:]:
        kinds = [(t, m.type == "note_on") for t, m in events if m.type in ("note_on", "note_off")]
        assert kinds == sorted(kinds)


def test_write_harmony_keeps_odd_timings_and_cuts_the_accompaniment_at_the_end(
    tmp_path: Path,
) -> None:
    swung = [(0, 61, 70, 40), (61, 95, 72, 127), (100, 190, 69, 1)]
    source = save(tmp_path / "swing.mid", [melody_events(swung)], ticks_per_beat=96, end=201)
    melody = midi.read_melody(source)
    long_accompaniment = Score.from_notes(12, [(v, 0, 12, 50 + 5 * v) for v in range(3)], 3)
    out = tmp_path / "swing-out.mid"
    midi.write_harmony(out, melody, long_accompaniment)
    tracks = tracks_of(out)
    assert notes_of(tracks[1]) == swung
    assert all(events[-1][0] == 201 for events in tracks)
    assert notes_of(tracks[2]) == [(0, 201, 50, midi.ACCOMPANIMENT_VELOCITY)]


def test_the_harmonised_file_reads_back_with_the_same_metre(tmp_path: Path) -> None:
    melody = midi.example_melody()
    out = tmp_path / "example.mid"
    midi.write_harmony(out, melody, accompaniment_for(melody))
    again = midi.read_melody(out)
    assert again.notes == melody.notes
    assert (again.steps_per_bar, again.first_downbeat) == (16, melody.first_downbeat)
    assert again.end_tick == melody.end_tick


def test_accompaniment_must_have_three_voices(tmp_path: Path, played: Path) -> None:
    melody = midi.read_melody(played)
    with pytest.raises(ValueError, match="3 voices"):
        midi.write_harmony(tmp_path / "x.mid", melody, Score.from_notes(32, [], n_voices=4))
    assert not (tmp_path / "x.mid").exists()


def test_an_existing_file_is_kept_without_force(tmp_path: Path, played: Path) -> None:
    melody = midi.read_melody(played)
    out = tmp_path / "taken.mid"
    out.write_bytes(b"keep me")
    with pytest.raises(OutputError, match=r"already exists: .*pass force=True"):
        midi.write_harmony(out, melody, accompaniment_for(melody))
    assert out.read_bytes() == b"keep me"
    midi.write_harmony(out, melody, accompaniment_for(melody), force=True)
    assert notes_of(tracks_of(out)[1]) == PLAYED


def test_a_failure_while_writing_leaves_no_file(
    tmp_path: Path, played: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    melody = midi.read_melody(played)

    def half_then_crash(_self: Any, filename: str) -> None:
        Path(filename).write_bytes(b"MThd half")
        msg = "disk full"
        raise OSError(msg)

    monkeypatch.setattr(mido.MidiFile, "save", half_then_crash)
    with pytest.raises(OutputError, match=r"cannot write .*out\.mid \(disk full\)"):
        midi.write_harmony(tmp_path / "out.mid", melody, accompaniment_for(melody))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["played.mid"]


def test_example_melody_is_a_test_chorale_soprano() -> None:
    melody = midi.example_melody()
    test = {c.name: c for c in split_chorales(load_chorales())["test"]}
    chorale = test[midi.EXAMPLE_CHORALE]
    soprano = chorale.score.pitch[:, :1]
    assert melody.to_score() == Score(soprano, chorale.score.onset[:, :1])
    assert melody.steps_per_bar == 16
    assert melody.first_downbeat == chorale.first_downbeat
    tempo = [attrs["tempo"] for _, kind, attrs in melody.meta if kind == "set_tempo"]
    assert 60 <= mido.tempo2bpm(tempo[0]) <= 100


# Bad files -------------------------------------------------------------------------------------


def bad_files(folder: Path, valid: Path) -> dict[str, tuple[Path, str]]:
    """Each kind of bad input with a word its error message must contain."""
    data = valid.read_bytes()
    text = folder / "notes.mid"
    text.write_text("these are not notes\n")
    truncated = folder / "truncated.mid"
    truncated.write_bytes(data[: len(data) // 2])
    corrupt = folder / "corrupt.mid"
    corrupt.write_bytes(data[:22] + b"\xff\xff\xff\xff" + data[26:])
    empty = folder / "empty.mid"
    empty.write_bytes(b"")
    header_only = folder / "header.mid"
    header_only.write_bytes(data[:14])
    smpte = folder / "smpte.mid"
    smpte.write_bytes(data[:12] + b"\xe7\x28" + data[14:])
    no_notes = save(folder / "silent.mid", [meta(0, "set_tempo", tempo=500_000)], end=1920)
    drums = save(
        folder / "drums.mid",
        [[e for b in range(8) for e in note(b * 240, b * 240 + 60, 38, channel=9)]],
    )
    type2 = save(folder / "type2.mid", [melody_events(PLAYED)], file_type=2)
    return {
        "missing": (folder / "nowhere.mid", "does not exist"),
        "folder": (folder, "folder"),
        "text": (text, "not a MIDI file"),
        "empty": (empty, "not a MIDI file"),
        "header only": (header_only, "damaged or truncated"),
        "truncated": (truncated, "damaged or truncated"),
        "corrupt": (corrupt, "damaged or truncated"),
        "smpte": (smpte, "SMPTE"),
        "no notes": (no_notes, "no notes"),
        "drums only": (drums, "only drums"),
        "type 2": (type2, "type 2"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "folder",
        "text",
        "empty",
        "header only",
        "truncated",
        "corrupt",
        "smpte",
        "no notes",
        "drums only",
        "type 2",
    ],
)
@pytest.mark.parametrize("reader", [midi.read_melody, midi.read_score])
def test_bad_files_raise_one_clear_line(
    tmp_path: Path, played: Path, case: str, reader: Any
) -> None:
    path, words = bad_files(tmp_path, played)[case]
    if reader is midi.read_score and case == "drums only":
        words = "no notes"
    with pytest.raises(MidiError) as caught:
        reader(path)
    message = str(caught.value)
    assert words in message
    assert str(path) in message
    assert "\n" not in message


def test_mutated_files_never_raise_anything_but_midi_error(tmp_path: Path, played: Path) -> None:
    data = bytearray(played.read_bytes())
    rng = random.Random(6)
    path = tmp_path / "mutant.mid"
    messages: list[str] = []
    for _ in range(300):
        mutant = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            mutant[rng.randrange(len(mutant))] = rng.randrange(256)
        path.write_bytes(bytes(mutant[: rng.randint(14, len(mutant))]))
        try:
            melody = midi.read_melody(path)
        except MidiError as error:
            messages.append(str(error))
            continue
        assert melody.to_score().n_steps <= midi.MAX_STEPS
    assert messages  # most mutants are refused, each with one line
    assert not [message for message in messages if "\n" in message]


def test_without_mido_the_error_says_how_to_install_it(
    tmp_path: Path, played: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mido", None)
    with pytest.raises(ImportError, match=r'pip install "binomial-gan-music\[midi\]"'):
        midi.read_melody(played)
    with pytest.raises(ImportError, match="binomial-gan-music"):
        midi.write_score(tmp_path / "x.mid", Score.from_notes(4, [(0, 0, 4, 60)], 1))
