"""Adopt the template: rename the distribution, its import packages and its commands everywhere.

Usage: ``python -m nox -s rename -- my-package`` (or ``python scripts/rename.py my-package``).

The current names are read from pyproject.toml, so the script works again after a rename.
Given a new distribution name such as ``my-package``:

- the distribution becomes ``my-package`` (and ``my_package`` in file names);
- the first import package (``binomial_package``) becomes ``my_package``, and every other one
  keeps the last word of its name as a suffix (``gan_music`` becomes ``my_package_music``);
- each command follows the package it runs (``gan-music`` becomes ``my-package-music``);
- the GitHub ``owner/repository`` everywhere (project URLs, links, CONTRIBUTING.md's
  ``upstream``) becomes ``--github OWNER/REPO``, or the ``origin`` remote's; when neither gives
  one, the script stops unless ``--keep-owner`` keeps the old owner with the new name;
- the Read the Docs address ``<repository>.readthedocs.io`` follows the repository's new name.

``--package OLD=NEW`` and ``--command OLD=NEW`` override any of these. Every text file git
tracks is rewritten (whole names only: ``gan_music`` inside ``test_gan_music.py`` stays), the
package folders are renamed, and so is every tracked file or folder named after a package or
the distribution (``docs/gan_music-model.md`` becomes ``docs/my_package_music-model.md``). A
file holding the line in ``KEEP_MARKER`` is left alone (docs/adopting-the-template.md, which
shows the old names). The tree must be clean first, so that ``git diff`` shows exactly what
the rename did.
"""

from __future__ import annotations

import argparse
import keyword
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

# PEP 508: what a distribution name may look like.
DIST_NAME = re.compile(r"^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$", re.IGNORECASE)
GITHUB_SLUG = re.compile(r"github\.com[/:]([\w.-]+)/([\w.-]+?)(?:\.git)?/?$")
SKIP_DIRS = {".git", ".nox", ".venv", "venv", "build", "dist", ".local-index", "__pycache__"}
BINARY_SUFFIXES = {".npz", ".mid", ".png", ".jpg", ".gz", ".whl", ".zip", ".pyc"}
# A file that holds this line describes the template's own names and is left alone.
KEEP_MARKER = "rename.py: keep the template's names in this file"


class RenameError(Exception):
    """The rename cannot go ahead; the message says why and how to fix it."""


@dataclass(frozen=True)
class Names:
    """Every name the rename changes, old and new."""

    dist: tuple[str, str]
    packages: dict[str, str]
    commands: dict[str, str]
    github: tuple[str, str] | None

    def path_replacements(self) -> dict[str, str]:
        """Old name to new name for file and folder names: distribution, packages, commands."""
        pairs = {self.dist[0]: self.dist[1], underscore(self.dist[0]): underscore(self.dist[1])}
        return {**pairs, **self.packages, **self.commands}

    def replacements(self) -> dict[str, str]:
        """Old text to new text: the names, the GitHub slug and the Read the Docs address."""
        pairs = self.path_replacements()
        if self.github is not None:
            old_owner_repo, new_owner_repo = self.github
            pairs[old_owner_repo] = new_owner_repo
            old_repo, new_repo = old_owner_repo.split("/")[1], new_owner_repo.split("/")[1]
            pairs[f"{old_repo}.readthedocs.io"] = f"{new_repo.lower()}.readthedocs.io"
        return pairs


def normalize(name: str) -> str:
    """PEP 503 normal form: lower case, runs of ``-_.`` become one hyphen."""
    return re.sub(r"[-_.]+", "-", name).lower()


def underscore(name: str) -> str:
    """The import-name form of a distribution name."""
    return normalize(name).replace("-", "_")


def read_current(root: Path) -> tuple[str, list[str], dict[str, str], str | None]:
    """Current distribution name, top-level packages, commands and GitHub slug."""
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    project = data["project"]
    include = data["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = [name for name in include if "." not in name and "*" not in name]
    commands = dict(project.get("scripts", {}))
    slug = None
    for url in project.get("urls", {}).values():
        match = GITHUB_SLUG.search(url.split("/tree/")[0].split("/issues")[0].split("/releases")[0])
        if match:
            slug = f"{match.group(1)}/{match.group(2)}"
            break
    return project["name"], packages, commands, slug


def origin_slug(root: Path) -> str | None:
    """``owner/repo`` of the ``origin`` remote when it is on GitHub."""
    try:
        url = subprocess.run(
            ["git", "remote", "get-url", "origin"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        return None
    match = GITHUB_SLUG.search(url)
    return f"{match.group(1)}/{match.group(2)}" if match else None


def parse_pairs(pairs: Sequence[str], what: str) -> dict[str, str]:
    """``OLD=NEW`` strings into a mapping."""
    mapping = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old or not new:
            msg = f"--{what} takes OLD=NEW, got {pair!r}"
            raise RenameError(msg)
        mapping[old] = new
    return mapping


def plan(root: Path, new_dist: str, args: argparse.Namespace) -> Names:
    """Work out every new name and check that each is valid."""
    if not DIST_NAME.match(new_dist):
        msg = f"{new_dist!r} is not a valid distribution name: use letters, digits, '-', '_', '.'"
        raise RenameError(msg)
    old_dist, old_packages, old_commands, old_slug = read_current(root)
    base = underscore(new_dist)
    packages = {old_packages[0]: base}
    packages |= {old: f"{base}_{old.rsplit('_', 1)[-1]}" for old in old_packages[1:]}
    packages |= parse_pairs(args.package, "package")
    for new in packages.values():
        if not new.isidentifier() or keyword.iskeyword(new):
            msg = f"{new!r} cannot be an import package name: use a Python identifier"
            raise RenameError(msg)
    if len(set(packages.values())) != len(packages):
        msg = f"two packages would get the same name: {packages}"
        raise RenameError(msg)
    commands = {}
    for command, target in old_commands.items():
        package = target.split(".")[0].split(":")[0]
        commands[command] = packages.get(package, base).replace("_", "-")
    commands |= parse_pairs(args.command, "command")
    github = None
    if old_slug is not None:
        github = (old_slug, new_github_slug(root, old_slug, new_dist, args))
    return Names((old_dist, normalize(new_dist)), packages, commands, github)


def new_github_slug(root: Path, old_slug: str, new_dist: str, args: argparse.Namespace) -> str:
    """``--github``, else the ``origin`` remote's, else (only with ``--keep-owner``) the old owner."""
    if args.github:
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", args.github):
            msg = f"--github takes OWNER/REPO, got {args.github!r}"
            raise RenameError(msg)
        return str(args.github)
    from_origin = origin_slug(root)
    if from_origin is not None:
        return from_origin
    old_owner = old_slug.split("/", maxsplit=1)[0]
    if args.keep_owner:
        return f"{old_owner}/{normalize(new_dist)}"
    msg = (
        "cannot work out the new GitHub owner: the `origin` remote is not a GitHub address; "
        f"pass --github OWNER/REPO, or --keep-owner to keep {old_owner!r} as the owner"
    )
    raise RenameError(msg)


def tracked_files(root: Path) -> Iterator[Path]:
    """Files git tracks, or every file outside build output and environments without git."""
    try:
        result = subprocess.run(
            ["git", "ls-files", "-z"], cwd=root, capture_output=True, check=False
        )
    except OSError:
        result = None
    if result is not None and result.returncode == 0:
        for name in result.stdout.decode().split("\0"):
            if name and (root / name).is_file():
                yield root / name
        return
    for path in sorted(root.rglob("*")):
        parts = set(path.relative_to(root).parts)
        if (
            path.is_file()
            and not parts & SKIP_DIRS
            and not any(p.endswith(".egg-info") for p in parts)
        ):
            yield path


def pattern_for(replacements: dict[str, str]) -> re.Pattern[str]:
    """One pass over the text, longest names first, whole names only."""
    alternatives = "|".join(re.escape(old) for old in sorted(replacements, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9_])(?:{alternatives})(?![A-Za-z0-9_])")


def replacer(replacements: dict[str, str]) -> Callable[[str], str]:
    """A function that rewrites every whole old name in a text to its new name.

    >>> replacer({"gan_music": "tunes"})("gan_music/cli.py, test_gan_music.py")
    'tunes/cli.py, test_gan_music.py'
    """
    pattern = pattern_for(replacements)
    return lambda text: pattern.sub(lambda match: replacements[match.group(0)], text)


def rewrite_text(root: Path, names: Names) -> list[Path]:
    """Replace every old name in every text file; return the files that changed."""
    rewrite = replacer(names.replacements())
    changed = []
    for path in tracked_files(root):
        if path.suffix in BINARY_SUFFIXES:
            continue
        raw = path.read_bytes()
        if b"\0" in raw:
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if KEEP_MARKER in text and path.name != Path(__file__).name:
            continue
        new = rewrite(text)
        if new != text:
            path.write_bytes(new.encode("utf-8"))
            changed.append(path)
    return changed


def plan_moves(root: Path, names: Names) -> list[tuple[Path, Path]]:
    """Tracked files named after an old name, and where each goes; refuse to overwrite anything.

    Each path is rewritten as text is, whole names only, so a link to ``docs/gan_music-model.md``
    and the file itself get the same new name. Files inside the package folders are left to
    :func:`rename_folders`, which moves each folder whole.
    """
    rewrite = replacer(names.path_replacements())
    moves = []
    for path in tracked_files(root):
        relative = path.relative_to(root).as_posix()
        top = relative.split("/")[0]
        if top in names.packages and "/" in relative:
            # Moved with its folder; only the part below the folder may still need a new name.
            inside = relative.split("/", 1)[1]
            new_inside = rewrite(inside)
            if new_inside == inside:
                continue
            source = root / names.packages[top] / inside
            target = root / names.packages[top] / new_inside
        else:
            new = rewrite(relative)
            if new == relative:
                continue
            source, target = path, root / new
        if target.exists():
            msg = f"{target} already exists: move it away or choose another name"
            raise RenameError(msg)
        moves.append((source, target))
    return moves


def move_files(moves: Sequence[tuple[Path, Path]], root: Path) -> None:
    """Move each file, then remove the folders the moves left empty."""
    for source, target in moves:
        target.parent.mkdir(parents=True, exist_ok=True)
        source.rename(target)
    for source, _ in moves:
        folder = source.parent
        while folder != root and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


def rename_folders(root: Path, names: Names) -> list[tuple[Path, Path]]:
    """Rename the package folders (they sit at the top: the layout is flat)."""
    moves = []
    for old, new in names.packages.items():
        source, target = root / old, root / new
        if source.is_dir() and old != new:
            if target.exists():
                msg = f"{target} already exists: choose another package name"
                raise RenameError(msg)
            source.rename(target)
            moves.append((source, target))
    return moves


def require_clean_tree(root: Path) -> None:
    """Refuse to mix the rename with uncommitted work."""
    try:
        result = subprocess.run(
            ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=False
        )
    except OSError:
        return
    if result.returncode == 0 and result.stdout.strip():
        msg = (
            "the git tree has uncommitted changes: commit or stash them first, so that "
            "`git diff` shows exactly what the rename did (or pass --force)"
        )
        raise RenameError(msg)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, rename, and say what changed and what to do next."""
    parser = argparse.ArgumentParser(description="Rename the distribution, packages and commands.")
    parser.add_argument("name", help="the new distribution name, for example my-package")
    parser.add_argument("--package", action="append", default=[], metavar="OLD=NEW")
    parser.add_argument("--command", action="append", default=[], metavar="OLD=NEW")
    parser.add_argument("--github", metavar="OWNER/REPO", help="GitHub repository for the URLs")
    parser.add_argument(
        "--keep-owner",
        action="store_true",
        help="when neither --github nor a GitHub `origin` names the owner, keep the old one",
    )
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--force", action="store_true", help="rename even with uncommitted work")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        if not args.force:
            require_clean_tree(root)
        names = plan(root, args.name, args)
        file_moves = plan_moves(root, names)
        changed = rewrite_text(root, names)
        moves = rename_folders(root, names)
        move_files(file_moves, root)
    except RenameError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for old, new in names.replacements().items():
        print(f"renamed {old} -> {new}")
    print(
        f"rewrote {len(changed)} files; moved {', '.join(f'{a.name}/ -> {b.name}/' for a, b in moves)}"
    )
    for source, target in file_moves:
        print(f"moved {source.relative_to(root)} -> {target.relative_to(root)}")
    print(
        "next: review with `git status` and `git diff`, run `python -m nox -s tests publish`, "
        "and make sure the name is free on both TestPyPI and PyPI before the first upload"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
