"""Render the README as the package index does, and fail on any relative link or image.

The README is the long description on the index's project page. There a relative link or
image resolves against the index, not the repository, so it is dead, and ``twine check
--strict`` does not notice. This renders it with ``readme_renderer`` (what twine uses) and
lists every ``href`` or ``src`` without a scheme. The only relative ones allowed are the
anchors the renderer itself puts on each heading, which point at that heading.

    python scripts/check_long_description.py [README.md]     (needs readme-renderer[md])

Exit status: 0 every link and image is absolute, 1 some are not, 2 the file cannot be rendered.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


class RelativeLinks(HTMLParser):
    """Collects every relative ``href`` and ``src``, except a heading's own anchor."""

    def __init__(self) -> None:
        super().__init__()
        self.relative: list[str] = []
        self.total = 0
        self._heading_id: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in HEADINGS:
            self._heading_id = values.get("id")
        for name in ("href", "src"):
            value = values.get(name)
            if value is None:
                continue
            self.total += 1
            own_anchor = tag == "a" and self._heading_id and value == f"#{self._heading_id}"
            if not SCHEME.match(value) and not own_anchor:
                self.relative.append(f'<{tag} {name}="{value}">')

    def handle_endtag(self, tag: str) -> None:
        if tag in HEADINGS:
            self._heading_id = None


def relative_links(html: str) -> tuple[list[str], int]:
    """The relative links and images of rendered HTML, and how many links and images it has.

    >>> relative_links('<h2 id="a">A<a href="#a"></a></h2><img src="x.png"><a href="https://e.org">')
    (['<img src="x.png">'], 3)
    """
    parser = RelativeLinks()
    parser.feed(html)
    parser.close()
    return parser.relative, parser.total


def render(text: str) -> str | None:
    """The HTML the index shows for a Markdown long description (GitHub-flavoured)."""
    from readme_renderer.markdown import render as render_markdown

    return render_markdown(text, variant="GFM")


def main(argv: Sequence[str] | None = None) -> int:
    """Check one README; print one line per relative link and a summary."""
    parser = argparse.ArgumentParser(
        description="Render a Markdown README as the package index does; fail on relative links."
    )
    parser.add_argument(
        "readme", nargs="?", type=Path, default=ROOT / "README.md", help="default: README.md"
    )
    args = parser.parse_args(argv)
    try:
        html = render(args.readme.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        print(f"error: cannot read {args.readme}: {error}", file=sys.stderr)
        return 2
    except ImportError:
        print(
            'error: readme_renderer is missing: pip install "readme-renderer[md]"', file=sys.stderr
        )
        return 2
    if html is None:
        print(f"error: {args.readme} did not render: install readme-renderer[md]", file=sys.stderr)
        return 2
    relative, total = relative_links(html)
    for link in relative:
        print(f"{args.readme.name}: relative link, dead on the index page: {link}")
    if relative:
        print(
            f"{len(relative)} of {total} links and images are relative: write them as "
            "https://github.com/OWNER/REPO/blob/main/PATH (images: "
            "https://raw.githubusercontent.com/OWNER/REPO/main/PATH)",
            file=sys.stderr,
        )
        return 1
    print(f"{args.readme.name}: all {total} links and images of the long description are absolute")
    return 0


if __name__ == "__main__":
    sys.exit(main())
