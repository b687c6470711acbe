"""One table that says how good the accompaniment is: the model beside Bach and three baselines.

Every melody of a split's two-bar windows goes to each accompanist; the same metrics
(:mod:`gan_music.metrics`) are computed on every column, and :meth:`EvaluationTable.check_targets`
lists which of the quality figures the model must reach it does reach. The real column is the
windows themselves. The baselines are those of :mod:`gan_music.baselines`; the shuffled one
draws from the windows of the same split.

>>> import numpy as np
>>> from types import SimpleNamespace
>>> from gan_music.baselines import RuleBaseline
>>> chords = [[72, 67, 64, 48], [74, 65, 62, 50], [71, 67, 62, 43], [72, 64, 60, 48]]
>>> bars = np.repeat(np.array(chords), 8, axis=0)  # (32 steps, 4 voices): four half notes
>>> pitch = np.stack([np.roll(bars, 8 * i, axis=0) for i in range(4)])
>>> windows = SimpleNamespace(pitch=pitch, onset=np.zeros(pitch.shape, bool))
>>> table = evaluate(RuleBaseline(), windows=windows, train_windows=windows)
>>> round(table.columns["model"]["parallels"], 3), table.columns["real"]["copies"]
(0.833, 1.0)
>>> print(table.to_markdown().splitlines()[0])
| metric | model | real | shuffled | rule | noise |
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import numpy as np
from numpy.typing import NDArray

from gan_music import metrics
from gan_music.baselines import Accompanist, NoiseBaseline, RuleBaseline, ShuffledBaseline
from gan_music.critic import CriticResult
from gan_music.errors import GanMusicError
from gan_music.pianoroll import STEPS_PER_BAR, STEPS_PER_BEAT, Score

if TYPE_CHECKING:
    from gan_music.dataset import Chorale

WINDOW_STEPS = 2 * STEPS_PER_BAR  #: two-bar windows, as the model is trained on
TRAIN_HOP = STEPS_PER_BAR  #: training windows compared for copying start on every bar line

VOICE_ROWS = tuple(
    f"{name} {voice}" for name in ("EB", "UPC", "QN") for voice in metrics.VOICE_LETTERS
)
LOWER_LETTERS = metrics.VOICE_LETTERS[1:]
#: Per lower voice: the share of notes re-striking the pitch before, and the L1 distance of
#: its note-length histogram (:func:`gan_music.metrics.note_length_shares`) from Bach's.
NOTE_ROWS = tuple(f"{name} {v}" for name in ("repeats", "lengths L1") for v in LOWER_LETTERS)
#: The table's rows in order, each with the number of decimals it is shown with.
ROWS: tuple[tuple[str, int], ...] = (
    ("melody kept", 3),
    *((row, 2 if row.startswith("UPC") else 3) for row in VOICE_ROWS),
    ("TD", 3),
    ("PCS", 3),
    ("scale", 3),
    ("parallels", 4),
    ("crossing", 3),
    ("diversity", 3),
    ("copies", 3),
    ("NN distance", 3),
    *((row, 3) for row in NOTE_ROWS),
    ("NLL", 3),
    ("critic accuracy", 3),
    ("critic AUC", 3),
)

#: What the decoder all but guarantees, whatever the network: it lowers by 10 nats every move
#: that would make the parallels the metric counts, and never rests while the melody sounds
#: (EB). Everything else (crossing, spacing, note lengths, QN, re-strikes, harmony) is drawn
#: from the network's own distribution. The ``network`` column shows the generator alone.
DECODER_GUARANTEED = ("parallels", "EB")


class Windows(Protocol):
    """Pitch and onset arrays ``(windows, steps, 4)``, soprano first, each from a bar line on."""

    @property
    def pitch(self) -> NDArray[Any]:
        """MIDI pitches, ``REST`` (-1) where silent."""
        ...

    @property
    def onset(self) -> NDArray[Any]:
        """True where a note starts."""
        ...


@dataclass(frozen=True)
class Target:
    """One quality figure the model must reach, and whether it does."""

    description: str  #: the requirement and the measured value, e.g. ``"PCS >= 0.55: 0.6120"``
    passed: bool


@dataclass(frozen=True)
class EvaluationTable:
    """The metrics of every column: ``columns[column][metric]``; NaN where one does not apply.

    Columns are ``model`` (what the package ships: network and decoder), ``network`` (the
    same network alone, without the decoder's search and penalties; only for a trained
    model), ``real``, ``shuffled``, ``rule`` and ``noise``; metric names are those of
    :data:`ROWS`. ``NLL`` is the network's test negative log-likelihood of Bach's alto, tenor
    and bass, in nats per step and voice; ``critic accuracy`` and ``critic AUC`` come from
    :func:`gan_music.critic.two_sample_test` (for ``real``: Bach against Bach).
    """

    columns: Mapping[str, Mapping[str, float]]
    split: str
    n_windows: int
    seed: int

    def _cells(self) -> list[list[str]]:
        header = ["metric", *self.columns]
        body = [
            [
                row,
                *(_format(self.columns[name].get(row, math.nan), digits) for name in self.columns),
            ]
            for row, digits in ROWS
        ]
        return [header, *body]

    def _caption(self) -> str:
        return (
            f"{self.split} split: {self.n_windows} windows of {WINDOW_STEPS} sixteenths, "
            f"seed {self.seed}"
        )

    def to_markdown(self) -> str:
        """The table in Markdown, with a caption line after it."""
        header, *body = self._cells()
        lines = [_markdown_row(header), "|" + "---|" * len(header)]
        lines += [_markdown_row(row) for row in body]
        return "\n".join([*lines, "", self._caption()])

    def __str__(self) -> str:
        cells = self._cells()
        widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
        lines = [
            "  ".join(
                cell.ljust(width) if i == 0 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
            for row in cells
        ]
        lines.insert(1, "  ".join("-" * width for width in widths))
        return "\n".join([self._caption(), "", *lines])

    def check_targets(self, column: str = "model") -> list[Target]:
        """The quality figures of the model (issues 3 and 10), each passed or not.

        NaN never passes, except the figures of columns the table does not have (the
        network alone, the critic), which are left out.
        """
        got = self.columns[column]
        real_td = self.columns["real"]["TD"]
        worst_eb = float(np.max([got[f"EB {v}"] for v in metrics.VOICE_LETTERS]))  # NaN stays NaN
        worst_qn = float(np.min([got[f"QN {v}"] for v in metrics.VOICE_LETTERS]))
        td_gap = abs(got["TD"] - real_td)
        checks = [
            ("melody kept exactly", got["melody kept"], got["melody kept"] == 1.0),
            ("EB 0 for every voice", worst_eb, worst_eb == 0.0),
            ("QN >= 0.9 for every voice", worst_qn, worst_qn >= 0.9),
            ("PCS >= 0.55", got["PCS"], got["PCS"] >= 0.55),
            (f"TD within 0.25 of real ({real_td:.3f})", got["TD"], td_gap <= 0.25),
            ("parallel fifths/octaves <= 0.01", got["parallels"], got["parallels"] <= 0.01),
            ("voice crossing <= 0.06", got["crossing"], got["crossing"] <= 0.06),
            ("diversity across seeds > 0", got["diversity"], got["diversity"] > 0),
            ("copies of training windows <= 5%", got["copies"], got["copies"] <= 0.05),
        ]
        worst_lengths = float(np.max([got.get(f"lengths L1 {v}", math.nan) for v in LOWER_LETTERS]))
        checks.append(
            ("note lengths within 0.15 (L1) of real", worst_lengths, worst_lengths <= 0.15)
        )
        if not math.isnan(got.get("critic accuracy", math.nan)):
            critic = got["critic accuracy"]
            checks.append(("critic accuracy <= 0.65", critic, critic <= 0.65))
        network = self.columns.get("network")
        if network is not None:
            checks += [
                (
                    "network alone: parallels <= 0.01",
                    network["parallels"],
                    network["parallels"] <= 0.01,
                ),
                (
                    "network alone: crossing <= 0.03",
                    network["crossing"],
                    network["crossing"] <= 0.03,
                ),
            ]
        return [
            Target(f"{text}: {_format(value, 4)}", bool(passed)) for text, value, passed in checks
        ]


def _format(value: float, digits: int) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def _markdown_row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _split_windows(split: str, *, train: bool) -> Windows:
    from gan_music.dataset import load_chorales, make_windows, split_chorales

    splits = split_chorales(load_chorales())
    if split not in splits:
        msg = f"unknown split {split!r}: choose one of {', '.join(splits)}"
        raise GanMusicError(msg)
    if train:
        return make_windows(splits["train"], length=WINDOW_STEPS, hop=TRAIN_HOP, transpose=True)
    return make_windows(splits[split], length=WINDOW_STEPS, hop=WINDOW_STEPS, transpose=False)


class Harmonised(NamedTuple):
    """An accompanist's four-voice output for a batch of windows."""

    pitch: NDArray[np.int16]  #: ``(windows, steps, 4)``
    onset: NDArray[np.bool_]  #: ``(windows, steps, 4)``
    melody_kept: NDArray[np.bool_]  #: per window: voice 0 is the given melody, note for note


def harmonise_windows(
    accompanist: Accompanist, pitch: NDArray[Any], onset: NDArray[Any], seeds: NDArray[Any]
) -> Harmonised:
    """Give each window's soprano to ``accompanist`` with its own seed; stack the results.

    >>> import numpy as np
    >>> from gan_music.baselines import RuleBaseline
    >>> pitch = np.full((2, 4, 4), 72)
    >>> out = harmonise_windows(RuleBaseline(), pitch, pitch > 0, np.zeros(2, np.uint32))
    >>> out.pitch[0, 0].tolist(), out.melody_kept.tolist()
    ([72, 67, 60, 48], [True, True])
    """
    out_pitch = np.empty((*pitch.shape[:2], 4), dtype=np.int16)
    out_onset = np.empty(out_pitch.shape, dtype=bool)
    kept = np.empty(len(pitch), dtype=bool)
    for i, window_seed in enumerate(seeds):
        melody = Score(pitch[i, :, :1], onset[i, :, :1])
        harmony = accompanist.harmonise(melody, seed=int(window_seed), first_downbeat=0)
        if harmony.pitch.shape != out_pitch.shape[1:]:
            msg = (
                f"the accompanist returned shape {harmony.pitch.shape} for a melody of "
                f"{melody.n_steps} steps: it must return 4 voices of the melody's length"
            )
            raise GanMusicError(msg)
        out_pitch[i], out_onset[i] = harmony.pitch, harmony.onset
        kept[i] = Score(harmony.pitch[:, :1], harmony.onset[:, :1]) == melody
    return Harmonised(out_pitch, out_onset, kept)


def column_metrics(
    pitch: NDArray[Any],
    onset: NDArray[Any],
    *,
    train_pitch: NDArray[Any],
    melody_kept: NDArray[np.bool_] | None = None,
    second_pitch: NDArray[Any] | None = None,
    steps_per_bar: int = STEPS_PER_BAR,
    steps_per_beat: int = STEPS_PER_BEAT,
) -> dict[str, float]:
    """Every metric of one column: the window metrics plus melody kept, diversity and copying.

    Melody kept and diversity are NaN when not given (the real column has neither). The
    windows' bars and beats last ``steps_per_bar`` and ``steps_per_beat`` sixteenths (4/4 by
    default, as the test split's windows).
    """
    result = metrics.window_metrics(
        pitch, onset, steps_per_bar=steps_per_bar, steps_per_beat=steps_per_beat
    )
    result["melody kept"] = math.nan if melody_kept is None else float(melody_kept.mean())
    result["diversity"] = (
        math.nan
        if second_pitch is None
        else metrics.diversity(pitch[..., 1:], second_pitch[..., 1:])
    )
    copying = metrics.nearest_neighbours(pitch[..., 1:], train_pitch[..., 1:])
    result["copies"], result["NN distance"] = copying.copies, copying.distance
    return result


def evaluate(
    accompanist: Accompanist | None = None,
    *,
    split: str = "test",
    seed: int = 0,
    windows: Windows | None = None,
    train_windows: Windows | None = None,
    critic: bool | None = None,
) -> EvaluationTable:
    """Evaluate ``accompanist`` (default: the shipped model) beside real Bach and the baselines.

    ``windows`` defaults to the two-bar windows of ``split`` (hop two bars, no transposition);
    ``train_windows`` to the training split's windows in every transposition, hop one bar,
    which the copying figures compare against. Each window gets its own seed, derived from
    ``seed``; diversity compares two generations of every melody with different seeds.
    A trained model (anything with ``network_alone()``) adds the ``network`` column and the
    test NLL. ``critic`` runs the two-sample test on whole chorales of the training split and
    of ``split`` (default: only when ``windows`` is not given, as it needs the chorales).
    """
    if accompanist is None:
        from gan_music.generate import load_model

        accompanist = load_model()
    evaluated = windows if windows is not None else _split_windows(split, train=False)
    training = train_windows if train_windows is not None else _split_windows(split, train=True)
    pitch, onset = np.asarray(evaluated.pitch), np.asarray(evaluated.onset)
    if not len(pitch):
        msg = f"the {split} split has no windows to evaluate: choose another split"
        raise GanMusicError(msg)
    train_pitch = np.asarray(training.pitch)
    seeds = np.random.SeedSequence(seed).generate_state(2 * len(pitch))
    accompanists: dict[str, Accompanist] = {"model": accompanist}
    network_alone = getattr(accompanist, "network_alone", None)
    if network_alone is not None:
        accompanists["network"] = network_alone()
    accompanists |= {
        "shuffled": ShuffledBaseline(pitch, onset),
        "rule": RuleBaseline(),
        "noise": NoiseBaseline(),
    }
    columns: dict[str, dict[str, float]] = {}
    lengths: dict[str, NDArray[np.float64]] = {}
    for name, player in accompanists.items():
        first = harmonise_windows(player, pitch, onset, seeds[: len(pitch)])
        second = harmonise_windows(player, pitch, onset, seeds[len(pitch) :])
        columns[name] = column_metrics(
            first.pitch,
            first.onset,
            train_pitch=train_pitch,
            melody_kept=first.melody_kept,
            second_pitch=second.pitch,
        )
        lengths[name] = _note_rows(columns[name], first.pitch, first.onset)
    columns["real"] = column_metrics(pitch, onset, train_pitch=train_pitch)
    lengths["real"] = _note_rows(columns["real"], pitch, onset)
    for name, shares in lengths.items():
        gap = np.abs(shares - lengths["real"]).sum(axis=1)
        columns[name].update(
            {f"lengths L1 {v}": float(g) for v, g in zip(LOWER_LETTERS, gap, strict=True)}
        )
    order = [name for name in ("model", "network", "real") if name in columns]
    columns = {name: columns[name] for name in [*order, *(c for c in columns if c not in order)]}
    for values in columns.values():
        values.update(dict.fromkeys(("NLL", "critic accuracy", "critic AUC"), math.nan))
    generator = getattr(accompanist, "generator", None)
    if generator is not None:
        nll = network_nll(generator, pitch, onset)
        columns["model"]["NLL"] = columns["network"]["NLL"] = nll
    if critic if critic is not None else windows is None:
        for name, result in critic_results(accompanists, split=split, seed=seed).items():
            columns[name]["critic accuracy"], columns[name]["critic AUC"] = (
                result.accuracy,
                result.auc,
            )
    return EvaluationTable(columns=columns, split=split, n_windows=len(pitch), seed=seed)


def _note_rows(
    column: dict[str, float], pitch: NDArray[Any], onset: NDArray[Any]
) -> NDArray[np.float64]:
    """Add the repeated-note rows to ``column``; return the lower voices' note-length shares."""
    repeats = metrics.repeated_notes(pitch, onset)[1:]
    column.update({f"repeats {v}": float(r) for v, r in zip(LOWER_LETTERS, repeats, strict=True)})
    return metrics.note_length_shares(pitch, onset)[1:]


def network_nll(generator: Any, pitch: NDArray[Any], onset: NDArray[Any]) -> float:
    """Mean negative log-likelihood (nats per step and voice) of the windows' alto, tenor, bass.

    At each step a voice's class is what it does there: strike a pitch, rest, or hold (see
    :func:`gan_music.models.output_classes`), so re-strikes and note lengths count. Each step
    is scored knowing the window's melody and Bach's notes before it (and, within the step,
    the voices the generator writes first), so this is the likelihood of exactly what Bach
    wrote under the distribution the generator draws from at temperature 1. Each window (its
    step 0 on a bar line, in the model's pitch range) starts with nothing written before it.
    """
    from gan_music import nn
    from gan_music.models import output_classes, teacher_inputs

    total, count = 0.0, 0
    for begin in range(0, len(pitch), 256):
        batch = slice(begin, begin + 256)
        inputs = teacher_inputs(
            pitch[batch, :, 0],
            onset[batch, :, 0],
            pitch[batch, :, 1:],
            onset[batch, :, 1:],
            np.zeros(len(pitch[batch]), int),
        )
        log_p = nn.log_softmax(generator(inputs).astype(np.float64))
        targets = output_classes(pitch[batch, :, 1:], onset[batch, :, 1:]).astype(np.intp)
        total -= float(np.take_along_axis(log_p, targets[..., None], axis=-1).sum())
        count += targets.size
    return total / count


def harmonise_chorales(
    player: Accompanist, chorales: Sequence[Chorale], seeds: NDArray[Any]
) -> list[Score]:
    """Each chorale harmonised whole from its soprano and its own bar lines, with its own seed.

    This is how the critic's passages are written: as a user calls ``harmonise``.
    """
    return [
        player.harmonise(
            Score(c.score.pitch[:, :1], c.score.onset[:, :1]),
            seed=int(s),
            first_downbeat=c.first_downbeat,
        )
        for c, s in zip(chorales, seeds, strict=True)
    ]


def critic_results(
    accompanists: Mapping[str, Accompanist], *, split: str = "test", seed: int = 0
) -> dict[str, CriticResult]:
    """The fresh critic's verdict on every accompanist, and on Bach against Bach (``real``).

    Every chorale of the training split and of ``split`` is harmonised whole, from its
    soprano and its own bar lines, and cut into passages (:func:`gan_music.critic.segments`).
    The critic is trained on the training side and scored on ``split``. For ``real`` the
    chorales are divided into two halves by a hash of their names and the critic tries to
    tell one half of Bach from the other: it should score about 0.5. The shuffled baseline
    draws on windows of the same side.
    """
    from gan_music.critic import segments, two_sample_test
    from gan_music.dataset import load_chorales, make_windows, split_chorales

    splits = split_chorales(load_chorales())
    sides = {"train": splits["train"], "test": splits[split]}
    real = {
        side: segments([c.score for c in items], [c.first_downbeat for c in items])
        for side, items in sides.items()
    }
    results: dict[str, CriticResult] = {}
    for name, given in accompanists.items():
        fake = {}
        for offset, (side, items) in enumerate(sides.items()):
            player = given
            if name == "shuffled":
                pool = make_windows(items, length=WINDOW_STEPS, hop=WINDOW_STEPS, transpose=False)
                player = ShuffledBaseline(pool.pitch, pool.onset)
            seeds = np.random.SeedSequence([seed, offset]).generate_state(len(items))
            scores = harmonise_chorales(player, items, seeds)
            fake[side] = segments(scores, [c.first_downbeat for c in items])
        results[name] = two_sample_test(real["train"], fake["train"], real["test"], fake["test"])
    halves = {side: [_half(c.name) for c in items] for side, items in sides.items()}
    bach = {}
    for side in sides:
        pitch, onset, group = real[side]
        one = np.array(halves[side])[group]
        bach[side] = ((pitch[one], onset[one], group[one]), (pitch[~one], onset[~one], group[~one]))
    results["real"] = two_sample_test(
        bach["train"][0], bach["train"][1], bach["test"][0], bach["test"][1]
    )
    return results


def _half(name: str) -> bool:
    return hashlib.sha256(f"half:{name}".encode()).digest()[0] % 2 == 1
