"""Redraw the README's pictures and evaluation table from the shipped model.

    python scripts/readme_assets.py     (needs the package with the [plot] extra, and mdformat)

Writes docs/assets/harmony-vs-bach.png (the model's alto, tenor and bass under a test-split
chorale melody, beside Bach's own), docs/assets/losses.png (the shipped model's training
curves, from docs/assets/losses.csv) and the table between the evaluation markers in README.md,
formatted by mdformat exactly as ``nox -s lint`` checks it, so a second run changes nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from gan_music import load_model, plot_comparison, plot_losses, save_figure
from gan_music.dataset import load_chorales, split_chorales
from gan_music.evaluate import evaluate
from gan_music.midi import EXAMPLE_CHORALE
from gan_music.pianoroll import Score

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "docs" / "assets"
README = ROOT / "README.md"
TABLE = re.compile(r"(<!-- evaluation:start -->\n).*?(<!-- evaluation:end -->)", re.DOTALL)
BARS = 8  #: how much of the chorale to draw: enough to read, small enough to see


def draw_comparison(seed: int = 1) -> Path:
    chorale = next(c for c in split_chorales(load_chorales())["test"] if c.name == EXAMPLE_CHORALE)
    steps = chorale.first_downbeat + 16 * BARS
    bach = chorale.score.window(0, steps)
    melody = Score(bach.pitch[:, :1], bach.onset[:, :1])
    harmony = load_model().harmonise(melody, seed=seed, first_downbeat=chorale.first_downbeat)
    figure = plot_comparison(
        harmony,
        bach,
        titles=(f"gan_music (seed {seed})", f"Bach, {chorale.name}"),
        first_downbeat=chorale.first_downbeat,
    )
    return save_figure(figure, ASSETS / "harmony-vs-bach.png", force=True)


def mdformat_like_lint(text: str) -> str:
    """``text`` as mdformat formats it with the repository's .mdformat.toml and plugins."""
    import mdformat
    from mdformat.plugins import PARSER_EXTENSIONS

    options = tomllib.loads((ROOT / ".mdformat.toml").read_text(encoding="utf-8"))
    return mdformat.text(text, options=options, extensions=PARSER_EXTENSIONS)


def write_table(markdown: str, readme: Path = README) -> bool:
    """Put ``markdown`` between the evaluation markers of ``readme``, formatted as lint wants.

    Returns False, writing nothing, when the file has no markers.
    """
    text = readme.read_text(encoding="utf-8")
    if not TABLE.search(text):
        return False
    new = mdformat_like_lint(TABLE.sub(lambda m: f"{m[1]}\n{markdown}\n\n{m[2]}", text))
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return True


def main(argv: Sequence[str] | None = None) -> int:
    argparse.ArgumentParser(
        description="Redraw docs/assets/harmony-vs-bach.png and docs/assets/losses.png, and "
        "rewrite the evaluation table in README.md, from the shipped model (a few minutes).",
    ).parse_args(argv)
    if importlib.util.find_spec("mdformat") is None:  # checked before minutes of work
        print(
            "error: the table is written through mdformat: install the `markdown` group of "
            "pyproject.toml (pip >= 25.1: pip install --group markdown)",
            file=sys.stderr,
        )
        return 2
    print(f"wrote {draw_comparison()}")
    losses = save_figure(plot_losses(ASSETS / "losses.csv"), ASSETS / "losses.png", force=True)
    print(f"wrote {losses}")
    table = evaluate()
    if not write_table(table.to_markdown()):
        print("README.md has no evaluation markers", file=sys.stderr)
        return 1
    print(f"updated the evaluation table in {README}")
    for target in table.check_targets():
        print(f"{'pass' if target.passed else 'FAIL'}  {target.description}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
