"""Output paths and run folders: checked before any work, written all or none, locked while in use.

Most cases run ``gan_music.cli.main`` in this process (fast, and lets a test make a writer
fail); the lock's release on ``kill -9`` needs a second process.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import stat
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("mido")
pytest.importorskip("matplotlib")

from gan_music import cli, plot
from gan_music._io import atomic_path
from gan_music._lock import check_unlocked, folder_lock
from gan_music.errors import GanMusicError, OutputError
from gan_music.midi import write_score
from gan_music.pianoroll import Score
from gan_music.train import CHECKPOINT_NAME, LOCK_NAME, train


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    """Run ``gan-music ARGS`` here; return the exit status and what went to stderr."""
    status = cli.main([str(arg) for arg in args])
    return status, capsys.readouterr().err


def one_line_error(status: int, err: str, *needles: str) -> str:
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("gan-music: error: ")
    assert "Errno" not in lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def files_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


@pytest.fixture
def melody_file(tmp_path: Path) -> Path:
    path = tmp_path / "tune.mid"
    notes = [(0, 4 * i, 4, pitch) for i, pitch in enumerate([67, 67, 74, 74, 76, 76, 74, 72])]
    write_score(path, Score.from_notes(32, notes, n_voices=1))
    return path


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if generate gets as far as loading a model (i.e. does any work)."""

    def refuse(*_: object, **__: object) -> None:
        pytest.fail("the command started working before refusing its output path")

    monkeypatch.setattr("gan_music.generate.load_model", refuse)


# --- run folder lock ---------------------------------------------------------------------


def test_a_second_run_in_a_locked_folder_is_refused_naming_the_holder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with folder_lock(run_dir, LOCK_NAME):  # another run, as far as the lock can tell
        for extra in ([], ["--force"], ["--resume"]):
            status, err = run(capsys, "train", "--out", run_dir, "--steps", "1", *extra)
            one_line_error(
                status, err, "in use by another run", f"pid {os.getpid()}", socket.gethostname()
            )
            assert "started 20" in err
        with pytest.raises(GanMusicError, match="in use by another run"):
            train(run_dir, steps=1)
    assert files_in(run_dir) == [LOCK_NAME]  # nothing trained, nothing written


def test_the_lock_dies_with_its_process(tmp_path: Path) -> None:
    holder = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from gan_music._lock import folder_lock
        with folder_lock(Path({str(tmp_path)!r}), "run.lock"):
            print("holding", flush=True)
            time.sleep(600)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "holding"
        with pytest.raises(GanMusicError, match=f"pid {process.pid} on "):
            check_unlocked(tmp_path, LOCK_NAME)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        if process.stdout is not None:
            process.stdout.close()
    check_unlocked(tmp_path, LOCK_NAME)  # no stale lock after kill -9
    with folder_lock(tmp_path, LOCK_NAME) as lock:
        assert f"pid {os.getpid()} " in lock.read_text()


def test_force_clears_the_old_run_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tmp_path / "run"
    status, err = run(capsys, "train", "--out", run_dir, "--steps", "2")
    assert status == 0, err
    assert (run_dir / CHECKPOINT_NAME).is_file()

    def killed_at_first_step(_: object) -> None:
        msg = "killed before the first new checkpoint"
        raise RuntimeError(msg)

    monkeypatch.setattr(cli, "ProgressBar", lambda: killed_at_first_step)
    with pytest.raises(RuntimeError, match="killed"):
        cli.main(["train", "--out", str(run_dir), "--steps", "3", "--force"])
    assert not (run_dir / CHECKPOINT_NAME).exists()
    assert not (run_dir / "model.npz").exists()
    monkeypatch.undo()
    status, err = run(capsys, "train", "--out", run_dir, "--resume")
    one_line_error(status, err, "nothing to resume")


def test_after_resume_the_summary_counts_this_call_and_the_total(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "run"
    status, err = run(capsys, "train", "--out", run_dir, "--steps", "2")
    assert status == 0, err
    assert "trained 2 steps in " in err
    status, err = run(capsys, "train", "--out", run_dir, "--steps", "5", "--resume")
    assert status == 0, err
    assert "trained 3 steps (5 in all) in " in err


def test_resume_and_force_together_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = run(capsys, "train", "--out", tmp_path / "run", "--resume", "--force")
    one_line_error(status, err, "--resume", "--force")
    assert not (tmp_path / "run").exists()


# --- seeds -------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["generate", "evaluate", "train"])
def test_a_negative_seed_is_one_line_and_train_leaves_no_folder(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = {"generate": ["--out", str(tmp_path / "a.mid")], "train": ["--out", str(tmp_path / "r")]}
    status, err = run(capsys, command, *out.get(command, []), "--seed", "-1")
    one_line_error(status, err, "seed must be a whole number 0 or more, got -1")
    assert files_in(tmp_path) == []


# --- all outputs or none -----------------------------------------------------------------


@pytest.mark.usefixtures("no_work")
def test_a_picture_name_that_is_not_png_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = run(capsys, "generate", "--out", tmp_path / "a.mid", "--plot", tmp_path / "a.txt")
    one_line_error(status, err, "a.txt is not a .png name")
    assert files_in(tmp_path) == []


@pytest.mark.usefixtures("no_work")
@pytest.mark.parametrize("plot_name", ["a.mid", "./a.mid", "sub/../a.mid"])
def test_the_picture_and_the_music_must_be_different_files(
    plot_name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sub").mkdir()
    os.chdir(tmp_path)
    status, err = run(capsys, "generate", "--out", "a.mid", "--plot", plot_name)
    one_line_error(status, err, "own name")
    assert files_in(tmp_path) == ["sub"]


@pytest.mark.usefixtures("no_work")
def test_a_name_ending_in_a_slash_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = run(capsys, "generate", "--out", f"{tmp_path}/newdir/")
    one_line_error(status, err, "newdir/ ends in '/'", "give a file name inside it")
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("force", [False, True])
def test_a_full_disk_while_drawing_leaves_no_music_file(
    force: bool,
    tmp_path: Path,
    melody_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out, picture = tmp_path / "a.mid", tmp_path / "a.png"
    if force:
        out.write_bytes(b"the earlier music")

    def disk_full(_figure: object, path: Path) -> None:
        Path(path).write_bytes(b"half a picture")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(plot, "write_png", disk_full)
    args: list[str | Path] = ["generate", "--melody", melody_file, "--out", out, "--plot", picture]
    status, err = run(capsys, *args, *(["--force"] if force else []))
    one_line_error(
        status,
        err,
        f"no space left on the device to write {picture}",
        "free some space or choose another folder",
    )
    expected = ["a.mid", "tune.mid"] if force else ["tune.mid"]
    assert files_in(tmp_path) == expected  # no temporaries either
    if force:
        assert out.read_bytes() == b"the earlier music"


def test_a_full_disk_while_writing_music_names_the_music_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import mido

    def disk_full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(mido.MidiFile, "save", disk_full)
    out = tmp_path / "a.mid"
    status, err = run(capsys, "generate", "--out", out, "--plot", tmp_path / "a.png")
    one_line_error(status, err, f"no space left on the device to write {out}:")
    assert files_in(tmp_path) == []


def test_the_written_pair_is_whole(
    tmp_path: Path, melody_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, picture = tmp_path / "a.mid", tmp_path / "a.png"
    status, err = run(capsys, "generate", "--melody", melody_file, "--out", out, "--plot", picture)
    assert status == 0, err
    assert files_in(tmp_path) == ["a.mid", "a.png", "tune.mid"]
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.read_bytes()[:4] == b"MThd"


# --- special files -----------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.usefixtures("no_work")
@pytest.mark.parametrize("option", ["--out", "--plot"])
def test_force_never_replaces_a_fifo(
    option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    args: dict[str, list[str | Path]] = {
        "--out": ["--out", fifo],
        "--plot": ["--out", tmp_path / "a.mid", "--plot", fifo],
    }
    status, err = run(capsys, "generate", *args[option], "--force")
    one_line_error(status, err, f"{fifo} is not a regular file", "choose another name")
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert files_in(tmp_path) == ["pipe.png"]


@pytest.mark.usefixtures("no_work")
@pytest.mark.parametrize("device", ["/dev/null", "/dev/full", "/dev/zero"])
def test_force_never_replaces_a_device(device: str, capsys: pytest.CaptureFixture[str]) -> None:
    if not Path(device).exists():
        pytest.skip(f"no {device} here")
    before = Path(device).stat()
    status, err = run(capsys, "generate", "--out", device, "--force")
    one_line_error(status, err, f"{device} is not a regular file")
    after = Path(device).stat()
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_atomic_path_refuses_a_special_file_even_with_force(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs FIFOs")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="is not a regular file"), atomic_path(fifo, force=True):
        pytest.fail("the block must not run")


# --- clearer messages --------------------------------------------------------------------


@pytest.mark.usefixtures("no_work")
def test_a_parent_that_is_a_file_is_called_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder")
    status, err = run(capsys, "generate", "--out", blocker / "sub" / "a.mid")
    one_line_error(status, err, f"{blocker} is a file, not a folder")
    assert "does not exist" not in err


@pytest.mark.parametrize("length", [251, 254, 255])
def test_a_long_but_valid_name_is_written(
    length: int, tmp_path: Path, melody_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / ("m" * (length - len(".mid")) + ".mid")
    status, err = run(capsys, "generate", "--melody", melody_file, "--out", out, "--seed", "0")
    assert status == 0, err
    assert files_in(tmp_path) == sorted([out.name, "tune.mid"])


@pytest.mark.usefixtures("no_work")
@pytest.mark.parametrize("where", ["file", "folder"])
def test_a_name_over_the_limit_is_one_line(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long = "n" * 300
    out = tmp_path / f"{long}.mid" if where == "file" else tmp_path / long / "a.mid"
    status, err = run(capsys, "generate", "--out", out)
    one_line_error(status, err, "bytes long, more than the 255 the file system allows")
    assert files_in(tmp_path) == []


def test_a_full_disk_names_the_file(tmp_path: Path) -> None:
    target = tmp_path / "checkpoint.npz"

    def write_onto_a_full_disk() -> None:
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"part")
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OutputError, match=f"no space left on the device to write {target}: free"):
        write_onto_a_full_disk()
    assert files_in(tmp_path) == []


# --- plot bound --------------------------------------------------------------------------


@pytest.mark.usefixtures("no_work")
def test_plotting_a_10000_bar_piece_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 40,000 crotchets (10,000 bars of 4/4) as raw MIDI bytes: mido would take seconds to write it.
    crotchet = b"\x00\x90\x3c\x50" + b"\x83\x60\x80\x3c\x00"  # on, 480 ticks later off
    events = crotchet * 40_000 + b"\x00\xff\x2f\x00"
    long_piece = tmp_path / "long.mid"
    long_piece.write_bytes(
        b"MThd"
        + struct.pack(">IHHH", 6, 0, 1, 480)
        + b"MTrk"
        + struct.pack(">I", len(events))
        + events
    )
    out = tmp_path / "a.mid"
    status, err = run(capsys, "generate", "--melody", long_piece, "--out", out, "--plot", "a.png")
    one_line_error(status, err, "10000 bars", f"at most {plot.MAX_PLOT_BARS}", "drop --plot")
    assert files_in(tmp_path) == ["long.mid"]


def test_the_plot_bound_is_in_the_library_too() -> None:
    too_long = Score.from_notes(16 * (plot.MAX_PLOT_BARS + 1), [(0, 0, 16, 60)], n_voices=1)
    with pytest.raises(GanMusicError, match=f"{plot.MAX_PLOT_BARS + 1} bars"):
        plot.plot_pianoroll(too_long)
    with pytest.raises(GanMusicError, match="at most"):
        plot.plot_comparison(too_long, too_long)
    plot.check_plot_length(16 * plot.MAX_PLOT_BARS)  # the longest allowed (drawn: seconds)
    plot.check_plot_length(3 * plot.MAX_PLOT_BARS, steps_per_bar=3)  # 3/16 bars count as bars
