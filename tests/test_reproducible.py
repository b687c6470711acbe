"""Reproducible builds: two builds of one commit give byte-identical sdists and wheels.

``scripts/reproducible_build.py`` sets SOURCE_DATE_EPOCH from the last commit, sets umask 022,
builds with the pinned backend, and normalises the sdist. These tests change what a second
build would otherwise pick up (file times, permissions, the umask) and require the same bytes.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
from tiny_project import COMMIT_TIME, SCRIPTS, make_tiny_project, require_scripts, run_script

require_scripts()
sys.path.insert(0, str(SCRIPTS))
import reproducible_build  # a script module, found through the line above

EPOCH = 1_700_000_000


def make_tar_gz(path: Path, files: dict[str, bytes], *, mtime: int, owner: str, mode: int) -> None:
    """A tar.gz written the way a build on some machine would: its own times and owners."""
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename=path.name, mode="wb", fileobj=raw, mtime=mtime) as gz,
        tarfile.open(fileobj=gz, mode="w") as tar,
    ):
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), mtime, mode
            info.uname = info.gname = owner
            info.uid = info.gid = 1000
            tar.addfile(info, io.BytesIO(data))


def test_normalised_sdists_are_identical_whatever_the_machine(tmp_path: Path) -> None:
    files = {"p-1/a.py": b"a = 1\n", "p-1/PKG-INFO": b"Name: p\n", "p-1/run.sh": b"#!/bin/sh\n"}
    first, second = tmp_path / "first.tar.gz", tmp_path / "second.tar.gz"
    make_tar_gz(first, files, mtime=1_600_000_000, owner="alice", mode=0o664)
    reordered = dict(reversed(files.items()))
    make_tar_gz(second, reordered, mtime=1_650_000_000, owner="bob", mode=0o600)
    assert first.read_bytes() != second.read_bytes()
    for path in (first, second):
        reproducible_build.normalize_sdist(path, EPOCH)
    assert first.read_bytes() == second.read_bytes()
    # The gzip header holds the fixed time and no file name.
    header = first.read_bytes()[:10]
    assert struct.unpack("<I", header[4:8])[0] == EPOCH
    assert header[3] & 0x08 == 0
    with tarfile.open(first) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == sorted(files)
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(EPOCH, 0, 0, "", "")}
    assert all(m.mode == 0o644 for m in members)


def test_normalising_keeps_every_file_and_its_content(tmp_path: Path) -> None:
    files = {f"p-1/pkg/m{i}.py": f"x = {i}\n".encode() for i in range(5)}
    path = tmp_path / "p.tar.gz"
    make_tar_gz(path, files, mtime=1_600_000_000, owner="carol", mode=0o755)
    reproducible_build.normalize_sdist(path, EPOCH)
    with tarfile.open(path) as tar:
        read = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
        modes = {m.mode for m in tar.getmembers()}
    assert read == files
    assert modes == {0o755}  # executable files stay executable


@pytest.mark.skipif(sys.platform == "win32", reason="file modes and umask are POSIX notions")
def test_two_builds_of_one_commit_are_byte_identical(tmp_path: Path) -> None:
    project = make_tiny_project(tmp_path / "tiny")
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    first = run_script(
        "reproducible_build.py", "--outdir", str(tmp_path / "a"), str(project), env=env
    )
    assert first.returncode == 0, first.stderr
    # What a second machine or a later day changes: file times, permissions, the umask.
    later = time.time() + 86_400
    for path in project.rglob("*"):
        if ".git" not in path.parts:
            os.utime(path, (later, later))
    (project / "README.md").chmod(0o600)
    previous = os.umask(0o077)
    try:
        second = run_script(
            "reproducible_build.py", "--outdir", str(tmp_path / "b"), str(project), env=env
        )
    finally:
        os.umask(previous)
    assert second.returncode == 0, second.stderr
    built_a = sorted((tmp_path / "a").iterdir())
    built_b = sorted((tmp_path / "b").iterdir())
    assert [p.name for p in built_a] == [p.name for p in built_b]
    assert len(built_a) == 2
    for one, two in zip(built_a, built_b, strict=True):
        assert one.read_bytes() == two.read_bytes(), f"{one.name} differs"
    # The times inside are the last commit's, not the build's.
    (wheel,) = (tmp_path / "a").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        stamps = {info.date_time[:4] for info in archive.infolist()}
    assert stamps == {(2024, 1, 2, 3)}, COMMIT_TIME


def test_source_date_epoch_is_the_last_commit_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_tiny_project(tmp_path / "tiny")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert reproducible_build.source_date_epoch(project) == 1_704_164_645  # 2024-01-02T03:04:05Z
    # Outside any git checkout: the earliest time a zip file can hold.
    outside = tmp_path / "plain"
    outside.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert reproducible_build.source_date_epoch(outside) == reproducible_build.ZIP_EPOCH
    # A SOURCE_DATE_EPOCH already set (by a distribution's build system) wins.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234567890")
    assert reproducible_build.source_date_epoch(project) == 1_234_567_890
