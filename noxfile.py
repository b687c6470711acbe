# /// script
# dependencies = ["nox>=2025.5.1"]
# ///
"""Development tasks. Run ``python -m nox -l`` to list them, ``python -m nox`` for the defaults.

Each session runs in its own fresh virtual environment, so a task never depends on
what happens to be installed on the machine.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import nox

nox.needs_version = ">=2025.5.1"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = False

ROOT = Path(__file__).parent.resolve()
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
DIST = ROOT / "dist"


def build_dists(session: nox.Session, out_dir: Path) -> tuple[Path, Path]:
    """Build the sdist, then the wheel *from that sdist*, into ``out_dir``.

    Building the wheel from the sdist proves the sdist is complete, and keeps a stale
    ``build/`` folder from leaking old files into the wheel.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("binomial_gan_music-*"):
        old.unlink()
    session.run("python", "-m", "build", "--sdist", "--outdir", str(out_dir), str(ROOT))
    (sdist,) = out_dir.glob("*.tar.gz")
    session.run("python", "-m", "build", "--wheel", "--outdir", str(out_dir), str(sdist))
    (wheel,) = out_dir.glob("*.whl")
    return sdist, wheel


@nox.session(default=True)
def tests(session: nox.Session) -> None:
    """Build the wheel, install it with the test tools, and run pytest against the installed copy.

    The layout is flat, so pytest run from the repository root would import the source
    folders instead of the wheel. Running from an empty temporary folder means a file
    missing from the wheel makes the tests fail, as it would for a user.
    """
    session.install("build")
    with tempfile.TemporaryDirectory() as tmp:
        _, wheel = build_dists(session, Path(tmp) / "dist")
        session.install(f"{wheel}[all]", *nox.project.dependency_groups(PYPROJECT, "test"))
        session.chdir(tmp)
        session.run(
            "python", "-m", "pytest",
            "--rootdir", str(ROOT),
            "-c", str(ROOT / "pyproject.toml"),
            "-p", "no:cacheprovider",
            str(ROOT / "tests"),
            *session.posargs,
        )


@nox.session(default=True)
def lint(session: nox.Session) -> None:
    """Ruff (lint and format check) and mypy, at the versions pinned in the lint group."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session(default=False)
def build(session: nox.Session) -> None:
    """Build the sdist and the wheel into dist/."""
    session.install("build")
    shutil.rmtree(DIST, ignore_errors=True)
    sdist, wheel = build_dists(session, DIST)
    session.log(f"built {sdist.name} and {wheel.name}")


@nox.session(default=True)
def check(session: nox.Session) -> None:
    """Strict metadata and content checks on freshly built distributions."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "check"))
    session.run("validate-pyproject", "pyproject.toml")
    with tempfile.TemporaryDirectory() as tmp:
        sdist, wheel = build_dists(session, Path(tmp))
        session.run("twine", "check", "--strict", str(sdist), str(wheel))
        session.run("check-wheel-contents", str(wheel))
