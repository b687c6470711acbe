"""Where the model's harmony differs most from Bach's, in the fresh critic's own features.

    python scripts/critic_differences.py [--split valid] [--seed 0] [--top 12] [--model PATH]

The critic of ``gan_music.critic`` is a logistic regression on many small descriptions of a
four-bar passage (``harmony_features``, named by ``feature_names``). This script harmonises
the soprano of every chorale of ``--split`` with the model, as ``gan-music evaluate`` does,
cuts the model's and Bach's chorales into the critic's passages, and prints the ``--top``
features whose means differ most, in pooled standard deviations of the passages (Cohen's d:
positive where the model has more of it than Bach). A critic that separates the two well
may do so from many differences of about this size together rather than from one large one.

Choose settings on the validation split (the default); the test split is for the record.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np

from gan_music.critic import feature_names, harmony_features, segments
from gan_music.dataset import load_chorales, split_chorales
from gan_music.evaluate import harmonise_chorales
from gan_music.generate import load_model


def differences(split: str, seed: int, model: str | None) -> list[tuple[str, float, float, float]]:
    """``(name, Bach's mean, the model's mean, standardised difference)`` for every feature."""
    chorales = split_chorales(load_chorales())[split]
    harmoniser = load_model(model)
    seeds = np.random.SeedSequence(seed).generate_state(len(chorales))
    harmonised = harmonise_chorales(harmoniser, chorales, seeds)
    downbeats = [c.first_downbeat for c in chorales]
    bach_pitch, bach_onset, _ = segments([c.score for c in chorales], downbeats)
    model_pitch, model_onset, _ = segments(harmonised, downbeats)
    bach = harmony_features(bach_pitch, bach_onset)
    ours = harmony_features(model_pitch, model_onset)
    spread = np.sqrt((bach.var(axis=0) + ours.var(axis=0)) / 2.0)
    size = np.divide(
        ours.mean(axis=0) - bach.mean(axis=0),
        spread,
        out=np.zeros(spread.shape),
        where=spread > 0,
    )
    return [
        (name, float(b), float(o), float(d))
        for name, b, o, d in zip(feature_names(), bach.mean(0), ours.mean(0), size, strict=True)
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("valid", "test"), default="valid")
    parser.add_argument("--seed", type=int, default=0, help="seed of the harmonisations")
    parser.add_argument("--top", type=int, default=12, help="how many features to list")
    parser.add_argument("--model", help="a model.npz or checkpoint (default: the shipped model)")
    args = parser.parse_args(argv)
    rows = sorted(differences(args.split, args.seed, args.model), key=lambda row: -abs(row[3]))
    print("| feature | Bach | model | difference (SD) |")
    print("| -- | -- | -- | -- |")
    for name, bach, ours, size in rows[: args.top]:
        print(f"| {name} | {bach:.3f} | {ours:.3f} | {size:+.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
