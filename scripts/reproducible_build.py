"""Build the sdist and the wheel so that two builds of one commit are byte-identical.

Usage: ``python scripts/reproducible_build.py [--outdir DIR] [PROJECT]`` (the nox sessions
``build``, ``publish`` and ``repro`` call it). It needs ``build`` and the pinned build backend
installed in the running environment, because it builds with ``--no-isolation``: the backend
version is then the one the ``build`` dependency group pins, not whatever is newest today.

What makes the output reproducible:

- ``SOURCE_DATE_EPOCH`` is the time of the last commit, so every timestamp setuptools writes
  into the wheel is the same on every machine and every day;
- ``umask 022``, so file modes do not depend on the user's settings;
- old ``*.egg-info`` and ``build/`` folders are removed first: setuptools reads a stale
  ``SOURCES.txt`` and could ship files that no longer exist;
- the sdist is rewritten by :func:`normalize_sdist`, because setuptools leaves the gzip header
  time, the tar member times and the owner names of the machine in it;
- the wheel is built from the sdist, which also proves the sdist is complete.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import NamedTuple

# The earliest time a zip file (and so a wheel) can record: the fallback outside a git checkout.
ZIP_EPOCH = 315_532_800


class Dists(NamedTuple):
    """The two files a release uploads."""

    sdist: Path
    wheel: Path


def source_date_epoch(project: Path) -> int:
    """Return ``SOURCE_DATE_EPOCH`` if set, else the last commit's time, else 1980-01-01."""
    if os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        return int(os.environ["SOURCE_DATE_EPOCH"])
    try:
        out = subprocess.run(
            ["git", "log", "-1", "--format=%ct"],
            cwd=project,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ZIP_EPOCH
    return int(out) if out.isdigit() else ZIP_EPOCH


def _normal_mode(member: tarfile.TarInfo) -> int:
    if member.isdir() or member.mode & 0o111:
        return 0o755
    return 0o644


def normalize_sdist(path: Path, epoch: int) -> None:
    """Rewrite the sdist at ``path`` with sorted members, fixed times, modes and owners.

    >>> import tarfile, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> (folder / "a.txt").write_text("same")
    4
    >>> with tarfile.open(folder / "x.tar.gz", "w:gz") as tar:
    ...     tar.add(folder / "a.txt", arcname="x/a.txt")
    >>> normalize_sdist(folder / "x.tar.gz", 1_700_000_000)
    >>> with tarfile.open(folder / "x.tar.gz") as tar:
    ...     [(m.name, m.mtime, m.uname, oct(m.mode)) for m in tar.getmembers()]
    [('x/a.txt', 1700000000, '', '0o644')]
    """
    with tarfile.open(path, "r:gz") as source:
        members = sorted(source.getmembers(), key=lambda member: member.name)
        contents = {
            member.name: source.extractfile(member).read()  # type: ignore[union-attr]
            for member in members
            if member.isfile()
        }
    raw = io.BytesIO()
    # filename="" keeps the temporary file's name out of the gzip header; mtime fixes its time.
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=epoch, compresslevel=9) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as target,
    ):
        for member in members:
            clean = tarfile.TarInfo(member.name)
            clean.type = member.type
            clean.linkname = member.linkname
            clean.mode = _normal_mode(member)
            clean.mtime = epoch
            clean.uid = clean.gid = 0
            clean.uname = clean.gname = ""
            data = contents.get(member.name)
            clean.size = len(data) if data is not None else 0
            target.addfile(clean, io.BytesIO(data) if data is not None else None)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(raw.getvalue())
    tmp.replace(path)


def _clean_build_output(project: Path) -> None:
    shutil.rmtree(project / "build", ignore_errors=True)
    for egg_info in project.glob("*.egg-info"):
        shutil.rmtree(egg_info, ignore_errors=True)


def _run_build(args: list[str], env: dict[str, str], *, verbose: bool) -> None:
    command = [sys.executable, "-m", "build", "--no-isolation", *args]
    result = subprocess.run(command, env=env, capture_output=not verbose, text=True, check=False)
    if result.returncode != 0:
        if not verbose:
            sys.stderr.write(result.stdout + result.stderr)
        msg = f"the build failed: {' '.join(command[1:])}"
        raise RuntimeError(msg)


def build(project: Path, outdir: Path, *, verbose: bool = False) -> Dists:
    """Build the sdist of ``project``, normalise it, then build the wheel from it, into ``outdir``.

    Files of an earlier build in ``outdir`` are removed first, so ``outdir`` ends up holding
    exactly the two new files.
    """
    project = project.resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    for old in [*outdir.glob("*.tar.gz"), *outdir.glob("*.whl")]:
        old.unlink()
    epoch = source_date_epoch(project)
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch)}
    previous_umask = os.umask(0o022)
    try:
        _clean_build_output(project)
        with tempfile.TemporaryDirectory() as staging_name:
            staging = Path(staging_name)
            _run_build(["--sdist", "--outdir", str(staging), str(project)], env, verbose=verbose)
            (sdist,) = staging.glob("*.tar.gz")
            normalize_sdist(sdist, epoch)
            _run_build(["--wheel", "--outdir", str(staging), str(sdist)], env, verbose=verbose)
            (wheel,) = staging.glob("*.whl")
            final = Dists(outdir / sdist.name, outdir / wheel.name)
            shutil.move(sdist, final.sdist)
            shutil.move(wheel, final.wheel)
        _clean_build_output(project)
    finally:
        os.umask(previous_umask)
    return final


def sha256(path: Path) -> str:
    """Return the SHA-256 of a file as hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: build, then print each file with its SHA-256."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", type=Path, default=Path.cwd())
    parser.add_argument("--outdir", type=Path, default=Path("dist"))
    parser.add_argument("--verbose", action="store_true", help="show the build's own output")
    args = parser.parse_args(argv)
    try:
        dists = build(args.project, args.outdir, verbose=args.verbose)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path in dists:
        print(f"{sha256(path)}  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
