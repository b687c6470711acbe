"""Every link in every Markdown file of the repository leads somewhere: a file, a folder or a heading.

Relative links are resolved against the file that holds them. Absolute links into this
repository (``https://github.com/OWNER/REPO/blob/main/PATH#anchor``, ``.../tree/main/PATH``,
``https://raw.githubusercontent.com/OWNER/REPO/main/PATH``) are read as local files too, with
OWNER/REPO taken from pyproject.toml's Source URL, so the check still holds after a rename.
Anchors follow GitHub's heading slugs. Other web addresses are not fetched: the tests run offline.
Only the standard library is used.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest
from tiny_project import SCRIPTS, require_scripts

require_scripts()
sys.path.insert(0, str(SCRIPTS))
import rename  # a script module, found through the line above: the files git tracks

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]

FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)
HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# `](target)` catches inline links and images, nested ones too: [![alt](img)](link).
INLINE_TARGET = re.compile(r"\]\(\s*<?([^)\s>]*)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
REFERENCE_TARGET = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
HTML_TARGET = re.compile(r"\b(?:href|src)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
HTML_ANCHOR = re.compile(r"<a\s[^>]*\b(?:name|id)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


@dataclass(frozen=True)
class Repository:
    """Where the Markdown lives and the GitHub ``owner/repo`` its absolute links point at."""

    root: Path
    owner_repo: str
    files: frozenset[str]

    def local_target(self, url: str) -> str | None:
        """``PATH[#anchor]`` for an absolute link into this repository's main branch, else None."""
        slug = re.escape(self.owner_repo)
        for form in (
            rf"https://github\.com/{slug}/(?:blob|tree)/main(?:/(.*))?",
            rf"https://raw\.githubusercontent\.com/{slug}/main/(.*)",
        ):
            match = re.fullmatch(form, url, re.IGNORECASE)
            if match:
                return match.group(1) or "."
        return None

    def exists(self, relative: str) -> bool:
        """True for a file git tracks (or, outside git, any file) or a folder holding one."""
        relative = relative.strip("/")
        return relative in {"", "."} or any(
            name == relative or name.startswith(relative + "/") for name in self.files
        )


def repository_files(root: Path) -> list[str]:
    """Every file the repository holds, as posix paths: git's list, or the folder outside git."""
    return sorted(path.relative_to(root).as_posix() for path in rename.tracked_files(root))


def load_repository(root: Path) -> Repository:
    """The repository at ``root``, with OWNER/REPO read from pyproject.toml's Source URL."""
    urls = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]
    match = re.match(r"https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?/?$", urls["Source"])
    assert match, f"pyproject.toml's Source URL is not a GitHub repository: {urls['Source']}"
    return Repository(root, match.group(1), frozenset(repository_files(root)))


def prose(text: str) -> str:
    """The text without code blocks, code spans and HTML comments, whose links are not links."""
    text = FENCE.sub("", text)
    text = HTML_COMMENT.sub("", text)
    return CODE_SPAN.sub("", text)


def link_targets(text: str) -> list[str]:
    """Every link and image target in a Markdown text, in order."""
    body = prose(text)
    found = [
        (match.start(), match.group(1))
        for pattern in (INLINE_TARGET, REFERENCE_TARGET, HTML_TARGET)
        for match in pattern.finditer(body)
    ]
    return [target for _, target in sorted(found)]


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text, lower case, punctuation dropped, spaces to -.

    >>> github_slug("3. From GitHub: trusted publishing")
    '3-from-github-trusted-publishing'
    >>> github_slug("`binomial_package`")
    'binomial_package'
    """
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text stays
    text = re.sub(r"<[^>]+>", "", text).replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """The anchors a Markdown text offers: heading slugs (repeats get -1, -2) and HTML anchors."""
    body = FENCE.sub("", HTML_COMMENT.sub("", text))
    seen: Counter[str] = Counter()
    found = set(HTML_ANCHOR.findall(body))
    for heading in HEADING.findall(body):
        slug = github_slug(heading)
        found.add(slug if not seen[slug] else f"{slug}-{seen[slug]}")
        seen[slug] += 1
    return found


def broken_links(repo: Repository, names: Iterable[str]) -> list[str]:
    """``file: target (why)`` for every link in ``names`` that leads nowhere."""
    problems = []
    for name in names:
        text = (repo.root / name).read_text(encoding="utf-8")
        for target in link_targets(text):
            where = repo.local_target(target) if target.startswith("https://") else None
            if where is None and SCHEME.match(target):
                continue  # another site, or mailto: nothing to check offline
            if where is not None:
                path_part, _, anchor = where.partition("#")
                relative = unquote(path_part)
            else:
                path_part, _, anchor = target.partition("#")
                base = (repo.root / name).parent
                resolved = (base / unquote(path_part)).resolve() if path_part else repo.root / name
                if not resolved.is_relative_to(repo.root):
                    problems.append(f"{name}: {target} (outside the repository)")
                    continue
                relative = resolved.relative_to(repo.root).as_posix()
            if not repo.exists(relative):
                problems.append(f"{name}: {target} (no file {relative})")
            elif anchor and relative.endswith(".md"):
                offered = anchors((repo.root / relative).read_text(encoding="utf-8"))
                if unquote(anchor) not in offered:
                    problems.append(f"{name}: {target} (no heading #{anchor} in {relative})")
    return problems


def repository_markdown(repo: Repository) -> list[str]:
    """The Markdown files to check: every ``.md`` file the repository holds."""
    return [name for name in sorted(repo.files) if name.endswith(".md")]


@pytest.fixture(scope="module")
def repo() -> Repository:
    if not (REPO / "pyproject.toml").is_file() or not (REPO / "README.md").is_file():
        pytest.skip("the tests run without the repository's Markdown files beside them")
    return load_repository(REPO)


def test_no_markdown_link_leads_nowhere(repo: Repository) -> None:
    names = repository_markdown(repo)
    assert "README.md" in names
    assert len(names) > 5
    assert broken_links(repo, names) == []


def test_the_readme_links_only_absolutely_into_the_repository(repo: Repository) -> None:
    """It is the index page's long description: a relative link or image is dead there."""
    readme = (repo.root / "README.md").read_text(encoding="utf-8")
    targets = link_targets(readme)
    assert len(targets) > 10
    relative = [target for target in targets if not SCHEME.match(target)]
    assert relative == [], "the README's links and images must be absolute URLs"
    images = re.findall(r"!\[[^\]]*\]\(([^)\s]+)", prose(readme))
    assert images, "the README shows pictures"
    for image in images:
        assert image.startswith(f"https://raw.githubusercontent.com/{repo.owner_repo}/main/"), image


def test_the_checker_finds_missing_files_anchors_and_repository_links(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text(
        "# Guide\n\n## 3. Install: the `fast` way\n\n## Notes\n\n## Notes\n", encoding="utf-8"
    )
    page = (
        "[ok](docs/guide.md#3-install-the-fast-way) [ok](docs/guide.md#notes-1) [ok](#top)\n"
        "<a name='top'></a>\n"
        "[gone](docs/missing.md) [no anchor](docs/guide.md#nowhere) [same page](#absent)\n"
        "[![picture](https://raw.githubusercontent.com/me/proj/main/docs/gone.png)]"
        "(https://github.com/me/proj/blob/main/docs/guide.md#guide)\n"
        "[folder](https://github.com/me/proj/tree/main/docs) [elsewhere](https://example.org/x)\n"
        "`[not a link](nowhere.md)`\n\n```\n[nor this](nowhere.md)\n```\n"
    )
    (tmp_path / "README.md").write_text(page, encoding="utf-8")
    repo = Repository(tmp_path, "me/proj", frozenset({"README.md", "docs/guide.md"}))
    assert broken_links(repo, ["README.md"]) == [
        "README.md: docs/missing.md (no file docs/missing.md)",
        "README.md: docs/guide.md#nowhere (no heading #nowhere in docs/guide.md)",
        "README.md: #absent (no heading #absent in README.md)",
        (
            "README.md: https://raw.githubusercontent.com/me/proj/main/docs/gone.png "
            "(no file docs/gone.png)"
        ),
    ]
