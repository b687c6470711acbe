"""Redraw the README's pictures and evaluation table from the shipped model.

    python scripts/readme_assets.py     (needs the package installed with the [plot] extra)

Writes docs/assets/harmony-vs-bach.png (the model's alto, tenor and bass under a test-split
chorale melody, beside Bach's own), docs/assets/losses.png (the shipped model's training
curves, from docs/assets/losses.csv) and the table between the evaluation markers in README.md
(then run ``mdformat README.md``, as the lint session checks it).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from gan_music import load_model, plot_comparison, plot_losses, save_figure
from gan_music.dataset import load_chorales, split_chorales
from gan_music.evaluate import evaluate
from gan_music.midi import EXAMPLE_CHORALE
from gan_music.pianoroll import Score

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


def main() -> int:
    print(f"wrote {draw_comparison()}")
    losses = save_figure(plot_losses(ASSETS / "losses.csv"), ASSETS / "losses.png", force=True)
    print(f"wrote {losses}")
    table = evaluate()
    text = README.read_text(encoding="utf-8")
    if not TABLE.search(text):
        print("README.md has no evaluation markers", file=sys.stderr)
        return 1
    README.write_text(TABLE.sub(rf"\g<1>\n{table.to_markdown()}\n\n\g<2>", text), encoding="utf-8")
    print(f"updated the evaluation table in {README}")
    for target in table.check_targets():
        print(f"{'pass' if target.passed else 'FAIL'}  {target.description}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
