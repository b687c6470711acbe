"""Whatever MIDI file a user hands ``gan-music generate``, it harmonises it or says why not in one line."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from gan_music.cli import main
from gan_music.midi import read_melody, read_score, write_score
from gan_music.pianoroll import Score

mido = pytest.importorskip("mido")


def generate(capsys: pytest.CaptureFixture[str], melody: Path, out: Path) -> tuple[int, str]:
    status = main(["generate", "--melody", str(melody), "--out", str(out), "--seed", "0"])
    return status, capsys.readouterr().err


def write_track(path: Path, messages: list[object], ticks_per_beat: int = 480) -> Path:
    midi_file = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    midi_file.tracks.append(mido.MidiTrack(messages))
    midi_file.save(path)
    return path


def notes(pitches: list[int], length: int = 480, channel: int = 0) -> list[object]:
    events: list[object] = []
    for pitch in pitches:
        events.append(mido.Message("note_on", note=pitch, velocity=80, channel=channel, time=0))
        events.append(mido.Message("note_off", note=pitch, channel=channel, time=length))
    return events


@pytest.fixture
def tune(tmp_path: Path) -> Path:
    melody = [(0, 4 * i, 4, p) for i, p in enumerate([72, 74, 76, 72, 76, 77, 79, 79])]
    path = tmp_path / "tune.mid"
    write_score(path, Score.from_notes(32, melody, n_voices=1))
    return path


def refused(tmp_path: Path, name: str, tune: Path) -> Path:
    """Each kind of file that must be refused."""
    data = tune.read_bytes()
    path = tmp_path / f"{name}.mid"
    if name == "corrupt":
        path.write_bytes(data[:14] + bytes(random.Random(1).randrange(256) for _ in range(200)))
    elif name == "truncated":
        path.write_bytes(data[: len(data) - 25])
    elif name == "no-notes":
        write_track(path, [mido.MetaMessage("set_tempo", tempo=500_000, time=0)])
    elif name == "drum-only":
        write_track(path, notes([36, 38, 42, 38], channel=9))
    elif name == "not-midi":
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    elif name == "empty":
        path.write_bytes(b"")
    return path


@pytest.mark.parametrize(
    "name", ["corrupt", "truncated", "no-notes", "drum-only", "not-midi", "empty"]
)
def test_bad_files_exit_2_with_one_line_and_no_output(
    tmp_path: Path, tune: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    bad = refused(tmp_path, name, tune)
    out = tmp_path / "out.mid"
    status, err = generate(capsys, bad, out)
    assert status == 2
    assert err.startswith("gan-music: error: ")
    assert err.count("\n") == 1
    assert bad.name in err
    assert not out.exists()


def test_extreme_pitches_are_harmonised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    melody = write_track(tmp_path / "extreme.mid", notes([0, 127, 1, 126, 60, 0, 127, 64]))
    out = tmp_path / "out.mid"
    status, err = generate(capsys, melody, out)
    assert status == 0, err
    harmony = read_score(out)
    assert harmony.pitch[:, 0].tolist() == read_score(melody).pitch[:, 0].tolist()
    assert harmony.pitch.max() <= 127


def test_tempo_and_metre_changes_are_harmonised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    changes: list[object] = [
        mido.MetaMessage("set_tempo", tempo=500_000, time=0),
        mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0),
        *notes([67, 69, 71, 72]),
        mido.MetaMessage("set_tempo", tempo=750_000, time=0),
        mido.MetaMessage("time_signature", numerator=3, denominator=4, time=0),
        *notes([74, 72, 71]),
        mido.MetaMessage("set_tempo", tempo=400_000, time=0),
        mido.MetaMessage("time_signature", numerator=6, denominator=8, time=0),
        *notes([72, 71, 69, 67, 69, 67], length=240),
    ]
    melody = write_track(tmp_path / "changes.mid", changes)
    out = tmp_path / "out.mid"
    status, err = generate(capsys, melody, out)
    assert status == 0, err
    written = mido.MidiFile(out)
    kept = [m for m in written.tracks[0] if m.type in ("set_tempo", "time_signature")]
    assert [m.type for m in kept].count("set_tempo") == 3
    assert [m.type for m in kept].count("time_signature") == 3
    assert abs(written.length - mido.MidiFile(melody).length) < 1e-6


@pytest.mark.slow
def test_an_hour_long_melody_is_harmonised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scale = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62]
    pitches = [scale[i % len(scale)] for i in range(7200)]  # quarter notes at 120 bpm: one hour
    melody = write_track(tmp_path / "hour.mid", notes(pitches))
    out = tmp_path / "out.mid"
    status, err = generate(capsys, melody, out)
    assert status == 0, err
    assert read_score(out).n_steps == read_melody(melody).to_score().n_steps == 4 * 7200


def test_mutated_files_never_give_a_traceback(
    tmp_path: Path, tune: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tune.read_bytes()
    rng = random.Random(2026)
    statuses = []
    for index in range(60):
        mutant = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            mutant[rng.randrange(len(mutant))] = rng.randrange(256)
        path = tmp_path / f"mutant{index}.mid"
        path.write_bytes(bytes(mutant[: rng.randint(10, len(mutant))]))
        out = tmp_path / f"out{index}.mid"
        status, err = generate(capsys, path, out)  # any other exception fails the test
        statuses.append(status)
        assert status in (0, 2)
        if status == 2:
            assert err.count("\n") == 1
            assert not out.exists()
        else:
            assert read_score(out).n_voices == 4
    assert 2 in statuses
