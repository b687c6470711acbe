"""Output files are checked before any work and written whole or not at all."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from gan_music._io import atomic_path, check_output_path
from gan_music.errors import OutputError


def test_missing_folder_is_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"does not exist: create it first"):
        check_output_path(tmp_path / "nope" / "song.mid")


def test_existing_file_needs_force(tmp_path: Path) -> None:
    target = tmp_path / "song.mid"
    target.write_bytes(b"keep me")
    with pytest.raises(OutputError, match=r"already exists: .*pass force=True") as python_caller:
        check_output_path(target)
    assert "--force" not in str(python_caller.value)  # Python callers pass force=True
    with pytest.raises(OutputError, match=r"already exists: .*pass --force to overwrite"):
        check_output_path(target, overwrite_hint="pass --force")
    assert check_output_path(target, force=True) == target
    assert target.read_bytes() == b"keep me"


def test_folder_as_output_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="is a folder"):
        check_output_path(tmp_path)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_read_only_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("this user (root) may write anywhere; the /proc test covers the OS error")
        with pytest.raises(OutputError, match="not writable"):
            check_output_path(folder / "song.mid")
    finally:
        folder.chmod(0o755)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_folder_the_os_refuses_gives_a_clear_error() -> None:
    # Even root cannot create files in /proc: the OS error becomes one clear line.
    with (
        pytest.raises(OutputError, match=r"cannot write in folder /proc .*choose another"),
        atomic_path("/proc/song.mid"),
    ):
        pytest.fail("the block must not run")


def test_failure_inside_the_block_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def write_then_crash() -> None:
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_then_crash()
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_written_file_has_the_usual_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "out.txt") as tmp:
            tmp.write_text("x")
    finally:
        os.umask(umask)
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == 0o644


def test_input_path_must_be_an_existing_file(tmp_path: Path) -> None:
    from gan_music._io import check_input_path
    from gan_music.errors import MidiError

    with pytest.raises(MidiError, match=r"nope\.mid does not exist: check the path"):
        check_input_path(tmp_path / "nope.mid", kind="a MIDI file", error=MidiError)
    with pytest.raises(MidiError, match="is a folder: give a MIDI file"):
        check_input_path(tmp_path, kind="a MIDI file", error=MidiError)
    existing = tmp_path / "tune.mid"
    existing.write_bytes(b"MThd")
    assert check_input_path(str(existing), kind="a MIDI file") == existing
