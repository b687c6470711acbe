"""Adopting the template: ``scripts/rename.py`` on a copy of the repository.

The slow test renames a committed copy of every tracked file, then builds it, installs the
wheel into a folder of its own and runs the packaging and binomial tests under the new
names, and the new command. The names it checks are read from pyproject.toml, so the test
still means the same after the repository itself has been renamed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tiny_project import REPO, SCRIPTS, git, require_scripts, run_script

require_scripts()
sys.path.insert(0, str(SCRIPTS))
import rename  # a script module, found through the line above

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

NEW = "acme-tones"


def current_names(root: Path) -> tuple[str, list[str], dict[str, str]]:
    """Distribution name, top-level packages and commands, as pyproject.toml declares them."""
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    include = data["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = [name for name in include if "." not in name and "*" not in name]
    return data["project"]["name"], packages, dict(data["project"].get("scripts", {}))


def committed_copy(destination: Path) -> Path:
    """Every file git tracks in the working tree, committed into a fresh repository."""
    require_scripts()
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a full git checkout of the repository: nothing to rename")
    names = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, names.split("\0")):
        if (REPO / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, destination / name)
    git(destination, "init", "-q")
    git(destination, "add", "-A")
    git(destination, "commit", "-q", "-m", "copy")
    return destination


def test_invalid_names_and_a_dirty_tree_are_refused(tmp_path: Path) -> None:
    copy = committed_copy(tmp_path / "copy")
    bad = run_script("rename.py", "not a name!", "--root", str(copy))
    assert bad.returncode == 2
    assert "is not a valid distribution name" in bad.stderr
    keyword = run_script("rename.py", NEW, "--package", "gan_music=class", "--root", str(copy))
    assert keyword.returncode == 2
    assert "cannot be an import package name" in keyword.stderr
    (copy / "README.md").write_text("changed\n")
    dirty = run_script("rename.py", NEW, "--root", str(copy))
    assert dirty.returncode == 2
    assert "uncommitted changes" in dirty.stderr
    assert (copy / "README.md").read_text() == "changed\n"  # nothing was touched


@pytest.mark.slow
def test_renamed_copy_builds_installs_and_passes_its_tests(tmp_path: Path) -> None:
    copy = committed_copy(tmp_path / "copy")
    old_dist, old_packages, old_commands = current_names(copy)
    result = run_script("rename.py", NEW, "--github", "acme/tones", "--root", str(copy))
    assert result.returncode == 0, result.stderr

    dist, packages, commands = current_names(copy)
    assert dist == NEW
    assert packages[0] == "acme_tones"
    assert all(p.startswith("acme_tones") for p in packages)
    assert len(commands) == len(old_commands)
    for command, target in commands.items():  # each command is named after its package
        assert command == target.split(".")[0].replace("_", "-")
    for old, new in zip(old_packages, packages, strict=True):
        assert not (copy / old).exists()
        assert (copy / new / "__init__.py").is_file()
    # No old name survives as a whole word in any text file.
    old_words = [old_dist, old_dist.replace("-", "_"), *old_packages, *old_commands]
    pattern = re.compile(
        r"(?<![A-Za-z0-9_])(?:" + "|".join(map(re.escape, old_words)) + r")(?![A-Za-z0-9_])"
    )
    for path in copy.rglob("*"):
        if ".git" in path.parts or not path.is_file() or path.suffix in {".npz", ".mid"}:
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        if rename.KEEP_MARKER in text:
            continue  # it shows the old names on purpose
        assert not pattern.search(text), (
            f"{path.relative_to(copy)} still names {pattern.search(text)}"
        )
    assert "github.com/acme/tones" in (copy / "pyproject.toml").read_text()

    built = run_script("reproducible_build.py", "--outdir", str(tmp_path / "dist"), str(copy))
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    assert wheel.name.startswith("acme_tones-")
    site = tmp_path / "target" / "site-packages"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target", str(site),
         str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(site)}
    tests = [str(copy / "tests" / name) for name in ("test_packaging.py", "test_binomial.py")]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow",
         "--rootdir", str(copy), "-c", str(copy / "pyproject.toml"),
         *[t for t in tests if Path(t).is_file()]],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"\d+ passed", run.stdout)
    for command in commands:  # the renamed entry point exists and runs
        code = (
            "import sys; from importlib.metadata import entry_points; "
            f"(ep,) = entry_points(group='console_scripts', name={command!r}); "
            f"sys.argv = [{command!r}, '--help']; sys.exit(ep.load()())"
        )
        help_run = subprocess.run(
            [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
            check=False,
        )  # fmt: skip
        assert help_run.returncode == 0, help_run.stderr
        assert command in help_run.stdout
