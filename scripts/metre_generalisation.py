"""Metre generalisation: the model on the Bach chorales in metres other than 4/4, beside Bach.

    python scripts/metre_generalisation.py [--model PATH] [--seed N] [--only NAME ...]

The model trains on 4/4 chorales alone. The 35 four-voice chorales in other metres
(``gan_music.dataset.load_other_metre_chorales``: 3/4, 3/2, and two that change from 4/4 to
3/4, given as one piece per section) are its unseen test: this script harmonises the soprano
of every one, whole and in its own metre (``steps_per_bar``, ``first_downbeat`` and
``steps_per_beat`` passed to ``harmonise``), cuts the result and Bach's own chorale into the
same two-bar windows of that metre, from the first bar line on, and prints one Markdown table
per time signature, one over all of them, and one over the chorales whose tune (by
``gan_music.dataset.tune_groups``) is not that of any training chorale. The rows are those of
``gan-music evaluate`` that apply (``gan_music.metrics`` with each chorale's bars and beats);
the columns are the model, the same network without the decoder, and Bach. Every figure is
pooled over the windows, bars, beats, notes or steps of the table, as the evaluation pools
them over the test split.

Left out, because they need 4/4 training material: the critic (trained on four-bar 4/4
passages of the training chorales, with onset features per quarter-note beat), copies and
NN distance (compared with two-bar 4/4 training windows, which a 3/4 window cannot equal),
and the test NLL (``gan_music.evaluate.network_nll`` feeds 4/4 bar features).

These chorales are reported once, at the end of a release: never use the script to choose
models or settings.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from gan_music import metrics
from gan_music.critic import segments
from gan_music.dataset import (
    Chorale,
    load_chorales,
    load_other_metre_chorales,
    split_chorales,
    tune_groups,
)
from gan_music.errors import GanMusicError
from gan_music.evaluate import LOWER_LETTERS, ROWS
from gan_music.pianoroll import REST, STEPS_PER_BAR, Score

WINDOW_BARS = 2  #: bars per window, as in ``gan-music evaluate``
#: Rows of ``gan-music evaluate`` that need 4/4 training material (see the module docstring).
LEFT_OUT = ("copies", "NN distance", "NLL", "critic accuracy", "critic AUC")
METRE_ROWS = tuple((row, digits) for row, digits in ROWS if row not in LEFT_OUT)
ALL = "all"  #: every chorale of the file (the 4/4 sections of the mixed ones too)
UNSEEN = "all, tunes not in training"


class MetredAccompanist(Protocol):
    """An accompanist that takes the melody's whole metre (the model and its network alone)."""

    def harmonise(
        self,
        melody: Score,
        *,
        seed: int | None = None,
        steps_per_bar: int = STEPS_PER_BAR,
        first_downbeat: int = 0,
        steps_per_beat: int | None = None,
    ) -> Score:
        """A four-voice score whose voice 0 is ``melody``."""
        ...


@dataclass(frozen=True)
class MetreWindows:
    """Two-bar windows of one or more chorales in one metre, each from a bar line."""

    pitch: NDArray[Any]  #: ``(windows, 2 * steps_per_bar, 4)``
    onset: NDArray[Any]
    steps_per_bar: int
    steps_per_beat: int


def metre_windows(score: Score, chorale: Chorale) -> MetreWindows:
    """Every whole two-bar window of ``score`` (laid out like ``chorale``) from its first bar line.

    >>> chorale = load_other_metre_chorales()[0]
    >>> windows = metre_windows(chorale.score, chorale)
    >>> chorale.time_signature, windows.pitch.shape
    ('3/4', (11, 24, 4))
    """
    pitch, onset, _ = segments(
        [score], [chorale.first_downbeat], bars=WINDOW_BARS, steps_per_bar=chorale.steps_per_bar
    )
    return MetreWindows(pitch, onset, chorale.steps_per_bar, chorale.steps_per_beat)


def _stack(arrays: Sequence[NDArray[Any]], fill: int | bool) -> NDArray[Any]:
    """``(rows, steps, voices)`` arrays of different ``steps`` as one, padded at the end."""
    steps = max(array.shape[1] for array in arrays)
    out = np.full((sum(len(a) for a in arrays), steps, arrays[0].shape[2]), fill, arrays[0].dtype)
    row = 0
    for array in arrays:
        out[row : row + len(array), : array.shape[1]] = array
        row += len(array)
    return out


def _units(pitch: NDArray[Any], unit: int) -> NDArray[Any]:
    """Windows ``(n, steps, voices)`` as ``(n * steps / unit, unit, voices)``: bars or beats."""
    n, steps, voices = pitch.shape
    if steps % unit:
        msg = f"windows of {steps} steps are not whole units of {unit}"
        raise ValueError(msg)
    return pitch.reshape(n * (steps // unit), unit, voices)


def pooled_metrics(parts: Sequence[MetreWindows]) -> tuple[dict[str, float], NDArray[np.float64]]:
    """The window metrics pooled over windows of several metres, and the note-length shares.

    Each bar, beat, note, step or voice pair counts once, whatever its metre: the step and note
    figures are taken on all windows padded with rests to one length (a rest adds no note, no
    sounding pair, no motion), EB and UPC on all bars padded to the longest, TD on all beats
    padded the same way. Returns the metrics (with the lower voices' repeats) and the lower
    voices' :func:`gan_music.metrics.note_length_shares`.

    >>> chorales = load_other_metre_chorales()[:2]
    >>> one = metre_windows(chorales[0].score, chorales[0])
    >>> two = metre_windows(chorales[1].score, chorales[1])
    >>> pooled, _ = pooled_metrics([one, two])
    >>> both = MetreWindows(np.concatenate([one.pitch, two.pitch]),
    ...                     np.concatenate([one.onset, two.onset]), 12, 4)
    >>> pooled == metrics.window_metrics(both.pitch, both.onset, steps_per_bar=12) | {
    ...     k: v for k, v in pooled.items() if k.startswith("repeats")}
    True
    """
    pitch = _stack([p.pitch for p in parts], REST)
    onset = _stack([p.onset for p in parts], fill=False)
    result = metrics.window_metrics(pitch, onset, steps_per_bar=pitch.shape[1])
    bars = _stack([_units(p.pitch, p.steps_per_bar) for p in parts], REST)
    beats = _stack([_units(p.pitch, p.steps_per_beat) for p in parts], REST)
    for name, values in (
        ("EB", metrics.empty_bars(bars, steps_per_bar=bars.shape[1])),
        ("UPC", metrics.used_pitch_classes(bars, steps_per_bar=bars.shape[1])),
    ):
        result.update(
            {f"{name} {v}": float(x) for v, x in zip(metrics.VOICE_LETTERS, values, strict=True)}
        )
    result["TD"] = metrics.tonal_distance(beats, steps_per_beat=beats.shape[1])
    repeats = metrics.repeated_notes(pitch, onset)[1:]
    result.update({f"repeats {v}": float(r) for v, r in zip(LOWER_LETTERS, repeats, strict=True)})
    return result, metrics.note_length_shares(pitch, onset)[1:]


@dataclass(frozen=True)
class Harmonisations:
    """One accompanist's two harmonisations of every chorale (two seeds), as metre windows."""

    first: list[MetreWindows]
    second: list[MetreWindows]
    melody_kept: list[bool]


def harmonise_chorales(
    accompanist: MetredAccompanist, chorales: Sequence[Chorale], seed: int
) -> Harmonisations:
    """Harmonise every chorale's soprano twice, whole and in its own metre; cut the windows.

    The seeds of chorale ``i`` are words ``i`` and ``len(chorales) + i`` of
    ``SeedSequence(seed).generate_state(2 * len(chorales))``, as ``evaluate`` seeds windows.
    """
    seeds = np.random.SeedSequence(seed).generate_state(2 * len(chorales))
    first: list[MetreWindows] = []
    second: list[MetreWindows] = []
    kept: list[bool] = []
    for index, chorale in enumerate(chorales):
        melody = Score(chorale.score.pitch[:, :1], chorale.score.onset[:, :1])
        for out, word in ((first, seeds[index]), (second, seeds[len(chorales) + index])):
            harmony = accompanist.harmonise(
                melody,
                seed=int(word),
                steps_per_bar=chorale.steps_per_bar,
                first_downbeat=chorale.first_downbeat,
                steps_per_beat=chorale.steps_per_beat,
            )
            if harmony.pitch.shape != chorale.score.pitch.shape:
                msg = (
                    f"the accompanist returned shape {harmony.pitch.shape} for {chorale.name}: "
                    "it must return 4 voices of the melody's length"
                )
                raise GanMusicError(msg)
            out.append(metre_windows(harmony, chorale))
        kept.append(Score(harmony.pitch[:, :1], harmony.onset[:, :1]) == melody)
    return Harmonisations(first, second, kept)


def metre_groups(chorales: Sequence[Chorale], training: Sequence[Chorale]) -> dict[str, list[int]]:
    """Indices of ``chorales`` per table: each time signature (most chorales first), all, and
    those sharing no tune group (:func:`gan_music.dataset.tune_groups`) with ``training``."""
    by_metre: dict[str, list[int]] = {}
    for index, chorale in enumerate(chorales):
        by_metre.setdefault(chorale.time_signature, []).append(index)
    groups = dict(sorted(by_metre.items(), key=lambda item: (-len(item[1]), item[0])))
    groups[ALL] = list(range(len(chorales)))
    together = [*chorales, *training]
    heard: set[int] = set()
    for members in tune_groups(together):
        if any(i >= len(chorales) for i in members):
            heard.update(i for i in members if i < len(chorales))
    groups[UNSEEN] = [i for i in range(len(chorales)) if i not in heard]
    return groups


def column_figures(
    windows: Sequence[MetreWindows],
    second: Sequence[MetreWindows] | None,
    melody_kept: Sequence[bool] | None,
    real_shares: NDArray[np.float64] | None,
) -> tuple[dict[str, float], NDArray[np.float64]]:
    """One column of one table: the pooled metrics, melody kept, diversity and length L1."""
    result, shares = pooled_metrics(windows)
    result["melody kept"] = np.nan if melody_kept is None else float(np.mean(melody_kept))
    result["diversity"] = (
        np.nan
        if second is None
        else metrics.diversity(
            np.concatenate([w.pitch[..., 1:].ravel() for w in windows]),
            np.concatenate([w.pitch[..., 1:].ravel() for w in second]),
        )
    )
    gap = np.abs(shares - (shares if real_shares is None else real_shares)).sum(axis=1)
    result.update({f"lengths L1 {v}": float(g) for v, g in zip(LOWER_LETTERS, gap, strict=True)})
    return result, shares


def evaluate_metres(
    accompanists: Mapping[str, MetredAccompanist],
    chorales: Sequence[Chorale],
    *,
    seed: int = 0,
    training: Sequence[Chorale] | None = None,
) -> dict[str, dict[str, dict[str, float]]]:
    """``tables[group][column][metric]`` for :func:`metre_groups` of ``chorales``.

    Columns are the accompanists' names and ``real`` (Bach's own chorale). ``training``
    defaults to the training split of the 4/4 chorales, the tunes the model has heard.
    """
    if training is None:
        training = split_chorales(load_chorales())["train"]
    real = [metre_windows(c.score, c) for c in chorales]
    played = {name: harmonise_chorales(a, chorales, seed) for name, a in accompanists.items()}
    tables: dict[str, dict[str, dict[str, float]]] = {}
    for group, members in metre_groups(chorales, training).items():
        if not members:
            continue
        real_figures, real_shares = column_figures([real[i] for i in members], None, None, None)
        columns = {}
        for name, harmonised in played.items():
            columns[name], _ = column_figures(
                [harmonised.first[i] for i in members],
                [harmonised.second[i] for i in members],
                [harmonised.melody_kept[i] for i in members],
                real_shares,
            )
        tables[group] = {**columns, "real": real_figures}
    return tables


def to_markdown(title: str, columns: Mapping[str, Mapping[str, float]]) -> str:
    """One table: a heading line, then the rows of :data:`METRE_ROWS` in Markdown."""
    lines = [title, "", "| metric | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for row, digits in METRE_ROWS:
        cells = [columns[name].get(row, np.nan) for name in columns]
        shown = ["-" if np.isnan(value) else f"{value:.{digits}f}" for value in cells]
        lines.append(f"| {row} | " + " | ".join(shown) + " |")
    return "\n".join(lines)


def report(
    tables: Mapping[str, Mapping[str, Mapping[str, float]]],
    chorales: Sequence[Chorale],
    groups: Mapping[str, list[int]],
) -> str:
    """Every table, each headed by its group, chorale count and two-bar window count."""
    parts = []
    for group, columns in tables.items():
        members = [chorales[i] for i in groups[group]]
        windows = sum(metre_windows(c.score, c).pitch.shape[0] for c in members)
        noun = "chorale" if len(members) == 1 else "chorales"
        title = f"**{group}**: {len(members)} {noun}, {windows} two-bar windows"
        parts.append(to_markdown(title, columns))
    return "\n\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model", metavar="PATH", help="model.npz or checkpoint (default: the shipped model)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, metavar="N", help="seed of the harmonisations (default 0)"
    )
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help="only these chorales (e.g. bwv11.6 bwv304:2)"
    )
    args = parser.parse_args(argv)
    from gan_music.generate import load_model

    chorales = load_other_metre_chorales()
    if args.only:
        names = {c.name for c in chorales}
        unknown = [name for name in args.only if name not in names]
        if unknown:
            print(
                f"error: no chorale in another metre is named {', '.join(unknown)}: "
                f"choose among {' '.join(sorted(names))}",
                file=sys.stderr,
            )
            return 2
        chorales = [c for c in chorales if c.name in args.only]
    try:
        model = load_model(args.model)
    except GanMusicError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    accompanists: dict[str, MetredAccompanist] = {"model": model}
    network_alone = getattr(model, "network_alone", None)  # as evaluate: a trained model has it
    if network_alone is not None:
        accompanists["network"] = network_alone()
    training = split_chorales(load_chorales())["train"]
    tables = evaluate_metres(accompanists, chorales, seed=args.seed, training=training)
    source = args.model or "the shipped model"
    print(f"Metre generalisation of {source}, seed {args.seed}\n")
    print(report(tables, chorales, metre_groups(chorales, training)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
