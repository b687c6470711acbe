"""A tiny, real, committed project that the publishing tests build, upload and install.

It has the shape of this repository (pyproject.toml, a package, a README, a
``scripts/smoke_test.py``) but no dependencies, so a whole rehearsal takes seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"
NAME = "tiny-rehearsal"
VERSION = "1.0.0"
# A token shaped like a real one, easy to spot if anything ever prints it.
FAKE_TOKEN = "pypi-FAKE-TOKEN-for-tests-7f3a9c1e5b2d4086"
# One fixed commit time, so every tiny project builds the same files.
COMMIT_TIME = "2024-01-02T03:04:05+00:00"

FILES = {
    "pyproject.toml": f"""\
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "{NAME}"
version = "{VERSION}"
description = "A tiny project for rehearsing a release"
readme = "README.md"
license = "MIT"
requires-python = ">=3.10"

[tool.setuptools]
packages = ["tiny_rehearsal"]
""",
    "README.md": "# tiny-rehearsal\n\nA tiny project for rehearsing a release.\n",
    "tiny_rehearsal/__init__.py": '"""Tiny."""\n\nVALUE = 42\n',
    "scripts/smoke_test.py": (
        "import sys, tiny_rehearsal\n"
        "assert tiny_rehearsal.VALUE == 42\n"
        "assert 'site-packages' in tiny_rehearsal.__file__, tiny_rehearsal.__file__\n"
        "print('tiny smoke test passed')\n"
    ),
    ".gitignore": "dist/\nbuild/\n*.egg-info/\n.local-index/\n",
}


def git_environment() -> dict[str, str]:
    """An environment in which git commits work without any user configuration."""
    return {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.invalid",
        "GIT_AUTHOR_DATE": COMMIT_TIME,
        "GIT_COMMITTER_DATE": COMMIT_TIME,
        "GIT_CONFIG_NOSYSTEM": "1",
    }


def git(folder: Path, *args: str) -> None:
    """Run git quietly in ``folder``; fail the test if git fails."""
    subprocess.run(
        ["git", "-c", "init.defaultBranch=main", *args],
        cwd=folder,
        env=git_environment(),
        check=True,
        capture_output=True,
    )


def make_tiny_project(folder: Path) -> Path:
    """Write the tiny project into ``folder`` and commit it; return ``folder``."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed: the publishing checks read the git tree")
    for name, text in FILES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git(folder, "init", "-q")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "tiny project")
    return folder


def run_script(
    name: str, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``scripts/<name>`` with this interpreter and capture its output."""
    return subprocess.run(
        [sys.executable, str(SCRIPTS / name), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def require_scripts() -> None:
    """Skip when the tests run without the repository's scripts folder next to them."""
    if not (SCRIPTS / "publish.py").is_file():
        pytest.skip(f"{SCRIPTS} is missing: these tests need a checkout or the sdist")
