"""scripts/readme_assets.py: --help only explains, and the table it writes is already mdformat's."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from tiny_project import REPO, SCRIPTS, require_scripts, run_script

require_scripts()
pytest.importorskip("mdformat")
sys.path.insert(0, str(SCRIPTS))
import readme_assets  # a script module, found through the line above

WRITES = [
    REPO / "README.md",
    REPO / "docs/assets/harmony-vs-bach.png",
    REPO / "docs/assets/losses.png",
]


def test_help_prints_usage_and_does_nothing_else() -> None:
    before = {path: path.stat().st_mtime_ns for path in WRITES if path.exists()}
    result = run_script("readme_assets.py", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: readme_assets.py")
    assert "wrote" not in result.stdout
    assert {path: path.stat().st_mtime_ns for path in WRITES if path.exists()} == before
    wrong = run_script("readme_assets.py", "--no-such-option")
    assert wrong.returncode == 2
    assert "unrecognized arguments" in wrong.stderr


def test_the_table_is_written_as_mdformat_formats_it(tmp_path: Path) -> None:
    if not (REPO / "README.md").is_file():
        pytest.skip("README.md is not beside the tests")
    readme = tmp_path / "README.md"
    shutil.copy(REPO / "README.md", readme)
    table = "| metric | model | real |\n|---|---|---|\n| PCS | 0.7 | 0.6 |\n\ntest split: 3 windows"
    assert readme_assets.write_table(table, readme)
    written = readme.read_text(encoding="utf-8")
    assert "| metric | model | real |\n| -- | -- | -- |\n| PCS | 0.7 | 0.6 |" in written
    assert readme_assets.mdformat_like_lint(written) == written  # `mdformat --check` passes
    readme_assets.write_table(table, readme)
    assert readme.read_text(encoding="utf-8") == written  # a second run changes nothing
    outside = written.split("<!-- evaluation:start -->")[0]
    assert (
        outside
        == (REPO / "README.md").read_text(encoding="utf-8").split("<!-- evaluation:start -->")[0]
    )


def test_a_readme_without_markers_is_left_alone(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n\nno table here\n", encoding="utf-8")
    assert not readme_assets.write_table("| a |\n|---|\n| 1 |", readme)
    assert readme.read_text(encoding="utf-8") == "# Title\n\nno table here\n"
