"""Adopting the template: ``scripts/rename.py`` on a copy of the repository.

The slow test renames a committed copy of every tracked file, then builds it, installs the
wheel into a folder of its own and runs the packaging and binomial tests under the new
names, and the new command. The names it checks are read from pyproject.toml, so the test
still means the same after the repository itself has been renamed. The whole suite of a
renamed fresh clone, and its publish rehearsal, run in ``nox -s fork`` (tests/test_fork.py).
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
# The one file allowed to keep the template's names: it explains them to whoever adopts it.
EXPLAINS_THE_OLD_NAMES = "docs/adopting-the-template.md"


def current_names(root: Path) -> tuple[str, list[str], dict[str, str]]:
    """Distribution name, top-level packages and commands, as pyproject.toml declares them."""
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    include = data["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = [name for name in include if "." not in name and "*" not in name]
    return data["project"]["name"], packages, dict(data["project"].get("scripts", {}))


def old_name_hits(root: Path, words: list[str]) -> list[str]:
    """Where any of ``words`` survives as a whole name in a tracked path or text file.

    Only the file that explains the old names on purpose may keep them.
    """
    pattern = rename.pattern_for(dict.fromkeys(words, ""))
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root, capture_output=True, check=True,
    ).stdout.decode()  # fmt: skip
    hits = []
    for relative in sorted(set(filter(None, listed.split("\0")))):
        path = root / relative
        if not path.is_file():
            continue  # tracked under its old name, moved by the rename
        if pattern.search(relative):
            hits.append(f"{relative}: the file name")
        if relative == EXPLAINS_THE_OLD_NAMES or path.suffix in rename.BINARY_SUFFIXES:
            continue
        for number, line in enumerate(path.read_text("utf-8", errors="ignore").splitlines(), 1):
            if found := pattern.search(line):
                hits.append(f"{relative}:{number}: {found.group(0)}")
    return hits


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


def test_an_owner_it_cannot_work_out_stops_the_rename(tmp_path: Path) -> None:
    copy = committed_copy(tmp_path / "copy")
    git(copy, "remote", "add", "origin", "https://git.example.invalid/someone/fork.git")
    owner = str(rename.read_current(copy)[3]).split("/", maxsplit=1)[0]
    before = (copy / "pyproject.toml").read_text(encoding="utf-8")
    stopped = run_script("rename.py", NEW, "--root", str(copy))
    assert stopped.returncode == 2
    assert "cannot work out the new GitHub owner" in stopped.stderr
    assert "--github OWNER/REPO, or --keep-owner" in stopped.stderr
    assert len(stopped.stderr.strip().splitlines()) == 1
    assert (copy / "pyproject.toml").read_text(encoding="utf-8") == before  # nothing touched

    kept = run_script("rename.py", NEW, "--keep-owner", "--root", str(copy))
    assert kept.returncode == 0, kept.stderr
    urls = tomllib.loads((copy / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]
    assert urls["Source"] == f"https://github.com/{owner}/{NEW}"
    contributing = (copy / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert f"git remote add upstream https://github.com/{owner}/{NEW}.git" in contributing


def test_a_github_origin_gives_the_owner_everywhere(tmp_path: Path) -> None:
    copy = committed_copy(tmp_path / "copy")
    git(copy, "remote", "add", "origin", "git@github.com:someone/tones.git")
    result = run_script("rename.py", NEW, "--root", str(copy))
    assert result.returncode == 0, result.stderr
    urls = tomllib.loads((copy / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]
    assert urls["Source"] == "https://github.com/someone/tones"
    assert all(
        "github.com/someone/tones" in url or "tones.readthedocs.io" in url for url in urls.values()
    )
    contributing = (copy / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert "git remote add upstream https://github.com/someone/tones.git" in contributing


def test_files_named_after_the_packages_move_with_every_link_to_them(tmp_path: Path) -> None:
    copy = committed_copy(tmp_path / "copy")
    old_dist, old_packages, _ = current_names(copy)
    named = [
        path.relative_to(copy).as_posix()
        for path in rename.tracked_files(copy)
        if path.relative_to(copy).parts[0] not in old_packages
        and rename.pattern_for(dict.fromkeys(old_packages, "")).search(path.name)
    ]
    assert named, "the template has files named after its packages (docs pages)"
    result = run_script("rename.py", NEW, "--github", "acme/tones", "--root", str(copy))
    assert result.returncode == 0, result.stderr
    # The script says what it moved; git's rename detection cannot be trusted for a short page
    # whose every line names the package (it sees a deletion and an addition).
    moved = dict(
        line.removeprefix("moved ").split(" -> ")
        for line in result.stdout.splitlines()
        if line.startswith("moved ") and " -> " in line and not line.endswith("/")
    )
    for old in named:
        assert not (copy / old).exists()
        new = moved[old]
        assert (copy / new).is_file()
        assert "acme_tones" in new
        # A Markdown link (``name.md``) or a table-of-contents entry (the name alone on its
        # line) now names the new file.
        name, stem = Path(new).name, re.escape(Path(new).stem)
        assert any(
            name in text or re.search(rf"^{stem}$", text, re.MULTILINE)
            for text in (path.read_text(encoding="utf-8") for path in copy.rglob("*.md"))
        )
    assert old_name_hits(copy, [old_dist, *old_packages]) == []


def test_the_read_the_docs_address_follows_the_repository() -> None:
    names = rename.Names(
        dist=("old-dist", "new-dist"),
        packages={"old_dist": "new_dist"},
        commands={},
        github=("old-owner/old-repo", "new-owner/New-Repo"),
    )
    fixture = (
        'Documentation = "https://old-repo.readthedocs.io/"\n'
        'Source = "https://github.com/old-owner/old-repo"\n'
        "git remote add upstream https://github.com/old-owner/old-repo.git\n"
        "https://raw.githubusercontent.com/old-owner/old-repo/main/docs/assets/a.png\n"
    )
    assert rename.replacer(names.replacements())(fixture) == (
        'Documentation = "https://new-repo.readthedocs.io/"\n'
        'Source = "https://github.com/new-owner/New-Repo"\n'
        "git remote add upstream https://github.com/new-owner/New-Repo.git\n"
        "https://raw.githubusercontent.com/new-owner/New-Repo/main/docs/assets/a.png\n"
    )


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
    # No old name survives as a whole word in any file name or text file.
    assert (
        old_name_hits(copy, [old_dist, old_dist.replace("-", "_"), *old_packages, *old_commands])
        == []
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
