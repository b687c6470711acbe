"""Mean and spread over training seeds: the shipped recipe against the same without the game.

    python scripts/seed_spread.py --runs RUNS_DIR [--seeds 0 1 2] [--train]

With ``--train`` it first trains, for every seed, the default recipe into ``RUNS_DIR/full{seed}``
and the same schedule with the adversarial weight at 0 (cross-entropy and the rule term, no
game) into ``RUNS_DIR/ce{seed}``, one after the other; run two copies of the script with other
``--seeds`` to use two cores (then about 13 minutes for a full run and 10 for one without the
game, with ``OPENBLAS_NUM_THREADS=1``). Without it, it evaluates whatever of those runs exist.
Each model is evaluated on the test split with ``gan_music.evaluate.evaluate`` (critic
included), and a model that has a discriminator once more by the critic alone with the
decoder's drafts turned off (the ``one draft`` rows: how much the discriminator's choice
among drafts adds); the columns are kept in ``evaluation.json`` in the run folder and reused
on the next call. The script prints one Markdown row per figure: mean and standard deviation
over the seeds of each recipe, and the number of seeds that went in.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from gan_music.evaluate import critic_results, evaluate
from gan_music.generate import Harmoniser, load_model
from gan_music.train import TrainConfig, train

RECIPES = {"full": TrainConfig(), "ce": replace(TrainConfig(), adv_weight=0.0)}
FIGURES = (
    ("model", "critic accuracy"),
    ("model", "critic AUC"),
    ("one draft", "critic accuracy"),
    ("network", "critic accuracy"),
    ("network", "critic AUC"),
    ("model", "NLL"),
    ("model", "PCS"),
    ("model", "TD"),
    ("model", "parallels"),
    ("network", "parallels"),
    ("network", "crossing"),
    ("model", "lengths L1 A"),
    ("model", "lengths L1 T"),
    ("model", "lengths L1 B"),
    ("model", "repeats A"),
    ("model", "repeats T"),
    ("model", "repeats B"),
    ("model", "QN A"),
    ("model", "QN T"),
    ("model", "diversity"),
    ("network", "diversity"),
)


def _columns(run: Path) -> dict[str, dict[str, float]]:
    """The evaluation of the run's model, computed once and kept in ``evaluation.json``."""
    cached = run / "evaluation.json"
    if cached.exists():
        loaded: dict[str, dict[str, float]] = json.loads(cached.read_text(encoding="utf-8"))
        return loaded
    model = load_model(run / "model.npz")
    table = evaluate(model, seed=0)
    columns = {name: dict(values) for name, values in table.columns.items()}
    if model.critic is not None:
        one = Harmoniser(model.generator, replace(model.decoder, drafts=1), model.critic)
        result = critic_results({"one draft": one}, seed=0)["one draft"]
        columns["one draft"] = {"critic accuracy": result.accuracy, "critic AUC": result.auc}
    cached.write_text(json.dumps(columns), encoding="utf-8")
    return columns


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, required=True, help="folder of the run folders")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--train", action="store_true", help="train the runs first")
    args = parser.parse_args(argv)
    values: dict[str, dict[tuple[str, str], list[float]]] = {name: {} for name in RECIPES}
    for name, config in RECIPES.items():
        for seed in args.seeds:
            run = args.runs / f"{name}{seed}"
            if args.train and not (run / "model.npz").exists():
                train(run, seed=seed, config=config)
            if not (run / "model.npz").exists():
                print(f"skipped {run}: no model.npz", file=sys.stderr)
                continue
            columns = _columns(run)
            for column, row in FIGURES:
                if column in columns:
                    values[name].setdefault((column, row), []).append(columns[column][row])
            print(f"evaluated {run}", file=sys.stderr)
    print("| figure | " + " | ".join(f"{name} (mean ± sd, n)" for name in RECIPES) + " |")
    print("|---|" + "---|" * len(RECIPES))
    for column, row in FIGURES:
        cells = []
        for name in RECIPES:
            got = values[name].get((column, row), [])
            spread = statistics.stdev(got) if len(got) > 1 else float("nan")
            cells.append(f"{statistics.fmean(got):.4f} ± {spread:.4f}, {len(got)}" if got else "-")
        print(f"| {column}: {row} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
