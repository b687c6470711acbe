"""What the sdist and the wheel contain, checked against an allow-list.

The wheel holds the two packages and their metadata, nothing else (no tests, no docs).
The sdist holds everything needed to rebuild and test. Neither may carry secrets or local
files: ``.pypirc``, ``.env``, virtual environments, caches, build output.

The files checked are the ones the ``tests`` nox session built and installed (it passes
their folder in PACKAGING_TEST_DIST_DIR); run alone, this module builds its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

import pytest
from tiny_project import REPO, require_scripts, run_script

PACKAGES = {"binomial_package", "gan_music"}
PREFIX = "binomial_gan_music"
SDIST_TOP_LEVEL = {
    "PKG-INFO", "pyproject.toml", "setup.py", "setup.cfg", "MANIFEST.in", "README.md",
    "LICENSE", "CONTRIBUTING.md", "noxfile.py", f"{PREFIX}.egg-info",
    "tests", "docs", "scripts", "benchmarks", *PACKAGES,
}  # fmt: skip
SDIST_REQUIRED = {"PKG-INFO", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE"}
FORBIDDEN_NAMES = {
    ".pypirc", ".env", "pyvenv.cfg", "htpasswd", ".git", ".nox", ".venv", "venv",
    "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis",
    ".local-index", "dist", "build", ".DS_Store",
}  # fmt: skip
FORBIDDEN_SUFFIXES = {".pyc", ".pyo", ".log", ".pem", ".key"}


def forbidden(path: PurePosixPath) -> bool:
    """True for a secret, a local file, a cache or build output, wherever it sits."""
    return (
        bool(FORBIDDEN_NAMES & set(path.parts))
        or path.suffix in FORBIDDEN_SUFFIXES
        or path.name.startswith(".env")
    )


def build_repository(out: Path, project: Path = REPO) -> Path:
    require_scripts()
    if not (project / "pyproject.toml").is_file():
        pytest.skip(f"{project} is not a source tree: nothing to build")
    result = run_script("reproducible_build.py", "--outdir", str(out), str(project))
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="module")
def dist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("PACKAGING_TEST_DIST_DIR")
    if given:
        return Path(given)
    return build_repository(tmp_path_factory.mktemp("dist"))


def sdist_members(dist_dir: Path) -> list[PurePosixPath]:
    (sdist,) = dist_dir.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = [PurePosixPath(m.name) for m in archive.getmembers() if m.isfile()]
    tops = {name.parts[0] for name in names}
    assert len(tops) == 1, f"the sdist must unpack into one folder, not {sorted(tops)}"
    return [PurePosixPath(*name.parts[1:]) for name in names]


def wheel_members(dist_dir: Path) -> list[PurePosixPath]:
    (wheel,) = dist_dir.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return [PurePosixPath(name) for name in archive.namelist() if not name.endswith("/")]


def tracked_files(*folders: str) -> set[PurePosixPath]:
    """Files git tracks under ``folders`` (skips the check outside a git checkout)."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: cannot list the tracked files")
    out = subprocess.run(
        ["git", "ls-files", "--", *folders], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    return {PurePosixPath(line) for line in out.splitlines() if (REPO / line).is_file()}


def test_wheel_holds_the_packages_and_metadata_only(dist_dir: Path) -> None:
    members = wheel_members(dist_dir)
    tops = {member.parts[0] for member in members}
    dist_info = {top for top in tops if top.endswith(".dist-info")}
    assert len(dist_info) == 1
    assert dist_info.pop().startswith(f"{PREFIX}-")
    assert tops - {top for top in tops if top.endswith(".dist-info")} == PACKAGES
    assert [m for m in members if forbidden(m)] == []
    for package in PACKAGES:
        assert PurePosixPath(package, "py.typed") in members


def test_wheel_holds_every_tracked_module_and_data_file(dist_dir: Path) -> None:
    shipped = set(wheel_members(dist_dir))
    wanted = {
        path
        for path in tracked_files(*PACKAGES)
        if path.suffix in {".py", ".typed", ".npz", ".mid", ".html", ".css", ".js"}
    }
    assert wanted, "git lists no package files"
    assert sorted(wanted - shipped) == []


def test_licence_files_travel_in_the_wheel_metadata(dist_dir: Path) -> None:
    licences = [m for m in wheel_members(dist_dir) if "licenses" in m.parts]
    assert {m.name for m in licences} >= {"LICENSE"}


def test_sdist_is_allow_listed_and_complete(dist_dir: Path) -> None:
    members = sdist_members(dist_dir)
    tops = {member.parts[0] for member in members}
    assert sorted(tops - SDIST_TOP_LEVEL) == []
    assert sorted(SDIST_REQUIRED - tops) == []
    assert [m for m in members if forbidden(m)] == []


def test_sdist_holds_every_tracked_file_needed_to_rebuild_and_test(dist_dir: Path) -> None:
    shipped = set(sdist_members(dist_dir))
    wanted = tracked_files("tests", "scripts", *PACKAGES)
    assert sorted(wanted - shipped) == []


@pytest.mark.slow
def test_planted_secrets_and_caches_stay_out(tmp_path: Path) -> None:
    """Build a copy of the tracked files with secrets and caches planted in every grafted folder."""
    copy = tmp_path / "copy"
    for path in tracked_files("."):
        target = copy / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / path, target)
    planted = [".pypirc", ".env", "tests/.env", "tests/.env.local", "scripts/.pypirc"]
    planted += ["tests/__pycache__/x.cpython-311.pyc", "tests/.hypothesis/examples/x"]
    planted += ["docs/.venv/pyvenv.cfg", "gan_music/__pycache__/x.cpython-311.pyc"]
    for name in planted:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_text("secret=1\n")
    out = build_repository(tmp_path / "dist", copy)
    leaked = [m for m in sdist_members(out) + wheel_members(out) if forbidden(m)]
    assert leaked == []
