"""MIDI files that ask for a lot of work or lie in their header: read in linear time, or refused."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import hostile_files as hostile
import pytest

from gan_music import midi
from gan_music._io import read_input
from gan_music.cli import main
from gan_music.errors import MidiError

mido = pytest.importorskip("mido")


def tempo(tick_delta: int, value: int) -> object:
    return mido.MetaMessage("set_tempo", tempo=value, time=tick_delta)


def test_meta_events_of_all_tracks_are_merged_once_each_in_time_order(tmp_path: Path) -> None:
    conductor = [
        tempo(0, 500_000),
        mido.MetaMessage("time_signature", numerator=3, denominator=4, time=0),
        tempo(480, 400_000),
        tempo(0, 400_000),  # the same event twice in one track
    ]
    melody = [
        tempo(0, 500_000),  # the conductor's first tempo again, in another track
        mido.Message("note_on", note=72, velocity=80, time=0),
        mido.Message("note_off", note=72, velocity=0, time=960),
        tempo(0, 300_000),  # a change only this track has, at tick 960
        mido.MetaMessage("key_signature", key="D", time=0),
        tempo(0, 500_000),  # the first tempo value again, but at another tick: kept
    ]
    midi_file = mido.MidiFile(type=1, ticks_per_beat=480)
    midi_file.tracks.extend([mido.MidiTrack(conductor), mido.MidiTrack(melody)])
    midi_file.save(tmp_path / "merge.mid")
    meta = midi.read_melody(tmp_path / "merge.mid").meta
    assert meta == [
        (0, "set_tempo", {"tempo": 500_000}),
        (0, "time_signature", {"numerator": 3, "denominator": 4, **_ts_defaults()}),
        (480, "set_tempo", {"tempo": 400_000}),
        (960, "set_tempo", {"tempo": 300_000}),
        (960, "key_signature", {"key": "D"}),
        (960, "set_tempo", {"tempo": 500_000}),
    ]


def _ts_defaults() -> dict[str, int]:
    return {"clocks_per_click": 24, "notated_32nd_notes_per_beat": 8}


@pytest.mark.slow
def test_200000_tempo_events_are_read_without_a_hang(tmp_path: Path) -> None:
    """A 1.4 MB file of 200,000 tempo changes took minutes; now seconds (docs/robustness.md).

    The timeout only guards against the hang; it is no speed target.
    """
    flood = hostile.tempo_flood(tmp_path / "tempo.mid", 200_000)
    assert flood.stat().st_size < midi.MAX_FILE_BYTES
    script = textwrap.dedent(
        f"""
        from gan_music.midi import read_melody
        melody = read_melody({str(flood)!r})
        print(len(melody.meta), len(melody.notes))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["200000", "4"]


def test_more_events_than_the_limit_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flood = hostile.tempo_flood(tmp_path / "tempo.mid", 300)  # and 4 notes and an end of track
    monkeypatch.setattr(midi, "MAX_EVENTS", 200)
    with pytest.raises(MidiError, match="holds 309 MIDI events, more than the 200 accepted"):
        midi.read_melody(flood)


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.mid"
    big.write_bytes(b"MThd" + bytes(midi.MAX_FILE_BYTES))
    with pytest.raises(MidiError, match="is larger than 2 MB, the limit for a MIDI file"):
        midi.read_melody(big)


def test_read_input_never_returns_more_than_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "data"
    path.write_bytes(bytes(100))
    assert read_input(path, kind="a test file", limit=100, error=MidiError) == bytes(100)
    with pytest.raises(MidiError, match="larger than 0 MB, the limit for a test file"):
        read_input(path, kind="a test file", limit=99, error=MidiError)


def header(division: int) -> bytes:
    """A type 0 file of one note whose MThd division field is ``division``."""
    track = bytes([0x00, 0x90, 72, 80, 0x60, 0x80, 72, 0, 0x00, 0xFF, 0x2F, 0x00])
    mthd = b"MThd" + (6).to_bytes(4, "big") + bytes([0, 0, 0, 1]) + division.to_bytes(2, "big")
    return mthd + b"MTrk" + len(track).to_bytes(4, "big") + track


@pytest.mark.parametrize(
    ("division", "words"),
    [(0, "says its ticks per beat is 0"), (0xE728, "counts time in SMPTE frames")],
)
def test_ticks_per_beat_0_and_smpte_have_their_own_messages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], division: int, words: str
) -> None:
    path = tmp_path / "division.mid"
    path.write_bytes(header(division))
    out = tmp_path / "out.mid"
    status = main(["generate", "--melody", str(path), "--out", str(out), "--seed", "0"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert words in err
    assert ("SMPTE" in err) == (division != 0)
    assert not out.exists()


def test_the_division_header_is_well_formed(tmp_path: Path) -> None:
    """The header above is a valid file at a normal division, so only the division is tested."""
    path = tmp_path / "ok.mid"
    path.write_bytes(header(96))
    assert midi.read_melody(path).notes == [(0, 96, 72, 80)]
