"""The course's commands still work, and make the same distributions as ``python -m build``."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP = shutil.ignore_patterns(
    ".git", ".nox", ".venv", "dist", "build", "*.egg-info", "__pycache__", ".local-index"
)

pytestmark = pytest.mark.skipif(
    not (ROOT / "setup.py").is_file(), reason="needs the project source beside the tests"
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("legacy") / "project"
    shutil.copytree(ROOT, copy, ignore=SKIP)
    return copy


def run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=project, capture_output=True, text=True, check=True
    )


def sdist_members(path: Path) -> set[str]:
    with tarfile.open(path) as archive:
        return {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}


def wheel_metadata(path: Path) -> tuple[set[str], str]:
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        (metadata,) = (n for n in names if n.endswith(".dist-info/METADATA"))
        return names, archive.read(metadata).decode()


def test_setup_py_sdist_bdist_wheel_matches_python_m_build(project: Path) -> None:
    legacy = run(project, "setup.py", "sdist", "bdist_wheel")  # the course command, into dist/
    assert "deprecated" in (legacy.stdout + legacy.stderr).lower()  # setuptools says so
    run(project, "-m", "build", "--no-isolation", "--outdir", "modern")

    (old_sdist,) = (project / "dist").glob("*.tar.gz")
    (new_sdist,) = (project / "modern").glob("*.tar.gz")
    assert old_sdist.name == new_sdist.name
    assert sdist_members(old_sdist) == sdist_members(new_sdist)
    assert {"README.md", "LICENSE", "setup.py", "pyproject.toml"} <= sdist_members(old_sdist)

    (old_wheel,) = (project / "dist").glob("*.whl")
    (new_wheel,) = (project / "modern").glob("*.whl")
    assert old_wheel.name == new_wheel.name
    assert wheel_metadata(old_wheel) == wheel_metadata(new_wheel)


def test_setup_py_carries_no_metadata_of_its_own() -> None:
    source = (ROOT / "setup.py").read_text(encoding="utf-8")
    assert "setup()" in source
    for keyword in ("name=", "version=", "install_requires", "description-file"):
        assert keyword not in source
