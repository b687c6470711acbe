"""The README, rendered as the package index renders a long description, links only absolutely."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_project import REPO, require_scripts, run_script

pytest.importorskip("readme_renderer")
pytest.importorskip("comrak", reason="readme-renderer[md] renders Markdown with comrak")


def test_the_readme_renders_with_absolute_links_and_images_only() -> None:
    require_scripts()
    if not (REPO / "README.md").is_file():
        pytest.skip("README.md is not beside the tests")
    result = run_script("check_long_description.py", str(REPO / "README.md"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "links and images of the long description are absolute" in result.stdout


def test_relative_links_images_and_same_page_anchors_are_refused(tmp_path: Path) -> None:
    require_scripts()
    readme = tmp_path / "README.md"
    readme.write_text(
        "# Title\n\n## Usage\n\nSee [the docs](docs/guide.md), [usage](#usage) and "
        "[the site](https://example.org/).\n\n![a picture](docs/assets/a.png)\n",
        encoding="utf-8",
    )
    result = run_script("check_long_description.py", str(readme))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        'README.md: relative link, dead on the index page: <a href="docs/guide.md">',
        'README.md: relative link, dead on the index page: <a href="#user-content-usage">',
        'README.md: relative link, dead on the index page: <img src="docs/assets/a.png">',
    ]
    assert "3 of 6 links and images are relative" in result.stderr
