"""The ``gan-music`` command as a user runs it: a real process, real files, real exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mido")
pytest.importorskip("matplotlib")

from gan_music.midi import read_score, write_score
from gan_music.pianoroll import Score


def run_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gan_music", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        env={**os.environ, "MPLBACKEND": "Agg"},
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gan-music: error: ")
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained for two steps: fast, and independent of the shipped weights."""
    from gan_music.train import train

    run_dir = tmp_path_factory.mktemp("run")
    return train(run_dir, steps=2).model_path


@pytest.fixture
def melody_file(tmp_path: Path) -> Path:
    # "Twinkle, twinkle" in G, 3/4 is not needed: a plain 4/4 tune of two bars plus a half bar.
    notes = [(0, 4 * i, 4, pitch) for i, pitch in enumerate([67, 67, 74, 74, 76, 76, 74, 72, 72])]
    path = tmp_path / "tune.mid"
    write_score(path, Score.from_notes(40, notes, n_voices=1))
    return path


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name(
        "gan-music.exe" if sys.platform == "win32" else "gan-music"
    )
    result = subprocess.run([script, "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("gan-music ")


@pytest.mark.parametrize("command", [[], ["generate"], ["train"], ["evaluate"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: gan-music")
    for command_name in command:
        assert command_name in result.stdout.splitlines()[0]


def test_generate_writes_four_tracks_and_keeps_the_melody(
    tmp_path: Path, tiny_model: Path, melody_file: Path
) -> None:
    out = tmp_path / "song.mid"
    picture = tmp_path / "song.png"
    result = run_cli(
        "generate", "--melody", melody_file, "--out", out, "--seed", "3",
        "--checkpoint", tiny_model, "--plot", picture,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    harmony = read_score(out)
    melody = read_score(melody_file)
    assert harmony.n_voices == 4
    assert harmony.n_steps == melody.n_steps
    assert Score(harmony.pitch[:, :1], harmony.onset[:, :1]) == melody
    assert picture.read_bytes().startswith(b"\x89PNG")


def test_same_seed_same_music_other_seed_other_music(
    tmp_path: Path, tiny_model: Path, melody_file: Path
) -> None:
    outputs = []
    for name, seed in [("a", "1"), ("b", "1"), ("c", "2")]:
        out = tmp_path / f"{name}.mid"
        generated = run_cli(
            "generate", "--melody", melody_file, "--out", out, "--seed", seed,
            "--checkpoint", tiny_model,
        )  # fmt: skip
        assert generated.returncode == 0, generated.stderr
        outputs.append(read_score(out))
    assert outputs[0] == outputs[1]
    assert outputs[0] != outputs[2]


def test_generate_with_the_shipped_model_and_example_melody(tmp_path: Path) -> None:
    result = run_cli("generate", "--out", "song.mid", "--plot", "song.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert read_score(tmp_path / "song.mid").n_voices == 4
    assert (tmp_path / "song.png").stat().st_size > 1000


def test_generate_temperature(tmp_path: Path, tiny_model: Path, melody_file: Path) -> None:
    """--temperature reaches the decoder: 0 and 3 differ; a value out of range is one line."""
    scores = []
    for temperature in ("0", "3"):
        out = tmp_path / f"t{temperature}.mid"
        result = run_cli(
            "generate", "--melody", melody_file, "--out", out, "--seed", "4",
            "--checkpoint", tiny_model, "--temperature", temperature,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        scores.append(read_score(out))
    assert scores[0] != scores[1]
    bad = run_cli(
        "generate", "--melody", melody_file, "--out", tmp_path / "bad.mid",
        "--checkpoint", tiny_model, "--temperature", "-1",
    )  # fmt: skip
    assert_one_line_error(bad, "temperature must be a number from 0 to 10")
    assert not (tmp_path / "bad.mid").exists()


def test_missing_melody_file(tmp_path: Path) -> None:
    result = run_cli("generate", "--melody", tmp_path / "nope.mid", "--out", tmp_path / "o.mid")
    assert_one_line_error(result, "nope.mid")
    assert not (tmp_path / "o.mid").exists()


def test_not_a_midi_file(tmp_path: Path) -> None:
    fake = tmp_path / "notes.mid"
    fake.write_text("these are not MIDI bytes\n")
    result = run_cli("generate", "--melody", fake, "--out", tmp_path / "o.mid")
    assert_one_line_error(result, "notes.mid")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.mid"]


def test_existing_output_needs_force(tmp_path: Path, tiny_model: Path, melody_file: Path) -> None:
    out = tmp_path / "song.mid"
    out.write_bytes(b"precious")
    result = run_cli("generate", "--melody", melody_file, "--out", out, "--checkpoint", tiny_model)
    assert_one_line_error(result, "already exists", "--force")
    assert out.read_bytes() == b"precious"
    forced = run_cli(
        "generate", "--melody", melody_file, "--out", out, "--checkpoint", tiny_model, "--force"
    )
    assert forced.returncode == 0, forced.stderr
    assert read_score(out).n_voices == 4


def test_output_in_missing_folder(tmp_path: Path, melody_file: Path) -> None:
    result = run_cli("generate", "--melody", melody_file, "--out", tmp_path / "no" / "o.mid")
    assert_one_line_error(result, "does not exist")


def test_damaged_checkpoint(tmp_path: Path, melody_file: Path) -> None:
    damaged = tmp_path / "model.npz"
    damaged.write_bytes(b"PK\x03\x04 not really a zip")
    out = tmp_path / "o.mid"
    result = run_cli("generate", "--melody", melody_file, "--out", out, "--checkpoint", damaged)
    assert_one_line_error(result, "model.npz")
    assert not out.exists()


def test_empty_melody(tmp_path: Path) -> None:
    import mido

    empty = tmp_path / "empty.mid"
    midi = mido.MidiFile(type=1)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("end_of_track", time=480)]))
    midi.save(empty)
    result = run_cli("generate", "--melody", empty, "--out", tmp_path / "o.mid")
    assert_one_line_error(result, "empty.mid")
    assert not (tmp_path / "o.mid").exists()


def test_train_writes_the_run_and_refuses_to_overwrite_it(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    result = run_cli("train", "--out", run_dir, "--steps", "3", "--seed", "5")
    assert result.returncode == 0, result.stderr
    assert "step 3/3" in result.stderr
    for name in ["model.npz", "losses.csv", "losses.png"]:
        assert (run_dir / name).is_file(), name
    assert len((run_dir / "losses.csv").read_text().strip().splitlines()) == 1 + 3
    again = run_cli("train", "--out", run_dir, "--steps", "3")
    assert_one_line_error(again, "--resume", "--force")
    resumed = run_cli("train", "--out", run_dir, "--steps", "4", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert len((run_dir / "losses.csv").read_text().strip().splitlines()) == 1 + 4


def test_train_rejects_a_non_positive_step_count(tmp_path: Path) -> None:
    result = run_cli("train", "--out", tmp_path / "run", "--steps", "0")
    assert result.returncode == 2
    assert "must be at least 1" in result.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_evaluate_prints_the_table_with_every_column(tiny_model: Path) -> None:
    result = run_cli("evaluate", "--checkpoint", tiny_model)
    assert result.returncode == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if "real" in line)
    for column in ["model", "real", "shuffled", "rule", "noise"]:
        assert column in header
    for metric in ["PCS", "TD", "parall"]:
        assert metric in result.stdout
    assert "pass" in result.stdout or "FAIL" in result.stdout
