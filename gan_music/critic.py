"""A classifier two-sample test: can a critic trained fresh tell an accompanist from Bach?

The critic never sees the GAN's own discriminator. It is a logistic regression on
hand-made, scale-free features of a four-voice passage (:func:`harmony_features`): the
intervals of every voice pair, their motion types, each lower voice's melodic intervals,
note lengths, repeated notes, onset positions, rests, register and spacing, and the chord
types of the four voices. Passages are four-bar segments of whole chorales harmonised the
way the package harmonises a melody.

The critic is trained on the *training* chorales (Bach's alto, tenor and bass against the
accompanist's under the same sopranos, so the classes are balanced), its L2 strength is
chosen by cross-validation grouped by chorale on those alone, and it is scored once on the
*test* chorales: accuracy 0.5 means it cannot tell the two apart, 1.0 that it always can.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> pitch = np.stack([np.full((40, 64), 72), rng.integers(60, 70, (40, 64)),
...                   np.full((40, 64), 55), np.full((40, 64), 48)], axis=-1)
>>> features = harmony_features(pitch, np.zeros(pitch.shape, bool))
>>> features.shape[0], bool(np.isfinite(features).all())
(40, True)
>>> calm = pitch.copy(); calm[:, :, 1] = 64
>>> onset, groups = np.zeros(pitch.shape, bool), np.arange(40) % 10
>>> def sample(p, part): return p[part], onset[part], groups[part]
>>> train, test = slice(0, 20), slice(20, 40)
>>> result = two_sample_test(sample(calm, train), sample(pitch, train),
...                          sample(calm, test), sample(pitch, test))
>>> result.accuracy, result.auc
(1.0, 1.0)
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gan_music.metrics import note_starts
from gan_music.pianoroll import REST, STEPS_PER_BAR, Score

SEGMENT_BARS = 4  #: bars per passage the critic judges
L2_GRID = (0.3, 3.0, 30.0, 300.0)  #: penalties tried by the grouped cross-validation
FOLDS = 5
LENGTH_BINS = (1, 2, 3, 4, 5, 8, 9, 16, 17)  #: note lengths (steps): 1, 2, 3, 4, 5-7, 8, 9-15, 16+
LEAP_BINS = 13  #: melodic intervals 0..11 semitones, then an octave or more

FloatArray = NDArray[np.float64]
#: ``(pitch, onset)`` of shape ``(n, steps, 4)`` and ``group`` ``(n,)``: the chorale of each passage
Passages = tuple[NDArray[Any], NDArray[Any], NDArray[Any]]


@dataclass(frozen=True)
class CriticResult:
    """How well the fresh critic told the first sample (Bach) from the second on the test side."""

    accuracy: float  #: balanced: the mean of its accuracy on each sample
    auc: float  #: probability that a passage of the first sample scores above one of the second
    l2: float  #: the penalty the cross-validation chose
    n_train: int  #: passages it was trained on (both samples)
    n_test: int  #: passages it was scored on (both samples)


def _shares(values: NDArray[np.intp], mask: NDArray[np.bool_], n_bins: int) -> FloatArray:
    """Per row, the share of the masked entries of ``values`` (``(n, m)``) in each bin."""
    counts = np.zeros((len(values), n_bins))
    rows = np.broadcast_to(np.arange(len(values))[:, None], values.shape)
    np.add.at(counts, (rows[mask], values[mask]), 1.0)
    result: FloatArray = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    return result


@functools.cache
def _chord_table() -> NDArray[np.intp]:
    """Chord type of each 12-bit pitch-class set: see :data:`CHORD_TYPES`."""
    shapes = [(0, 4, 7), (0, 3, 7), (0, 3, 6), (0, 4, 8), (0, 4, 7, 10), (0, 3, 7, 10)]
    shapes += [(0, 3, 6, 10), (0, 4, 7, 11), (0, 3, 6, 9)]
    table = np.full(1 << 12, len(shapes) + 2, dtype=np.intp)  # other
    for mask in range(1 << 12):
        size = mask.bit_count()
        if size <= 2:
            table[mask] = len(shapes) + (size == 2)  # one pitch class / two
    for index, shape in enumerate(shapes):
        for root in range(12):
            table[sum(1 << ((root + degree) % 12) for degree in shape)] = index
    return table


#: Chord types counted by :func:`harmony_features`, in table order.
CHORD_TYPES = (
    "major",
    "minor",
    "diminished",
    "augmented",
    "dominant 7",
    "minor 7",
    "half-diminished 7",
    "major 7",
    "diminished 7",
    "one pitch class",
    "two pitch classes",
    "other",
)


def harmony_features(pitch: NDArray[Any], onset: NDArray[Any]) -> FloatArray:
    """``(n, features)`` descriptions of ``(n, steps, 4)`` passages, soprano first.

    Every feature is a share or a mean, so passages of any length compare. Voice pairs are
    all six pairs of the four voices; "lower voices" are alto, tenor and bass.
    """
    p = np.asarray(pitch, dtype=np.intp)
    n, steps, voices = p.shape
    sounding = p != REST
    starts = note_starts(p, onset)
    parts: list[FloatArray] = []
    for upper, lower in itertools.combinations(range(voices), 2):
        both = sounding[..., upper] & sounding[..., lower]
        gap = p[..., upper] - p[..., lower]
        parts.append(_shares(np.mod(gap, 12), both, 12))  # vertical interval classes
        parts.append(_mean(gap < 0, both)[:, None])  # crossed
        parts.append(_mean(gap > 12, both)[:, None])  # wider than an octave
        parts.append(_motion(p[..., upper], p[..., lower], both))
    for upper, lower in itertools.pairwise(range(voices)):
        both = sounding[..., upper] & sounding[..., lower]
        span = (p[..., upper] - p[..., lower]) / 12.0
        parts += [_mean(span, both)[:, None], _mean(span**2, both)[:, None]]
    soprano_mean = _mean(p[..., 0].astype(np.float64), sounding[..., 0])
    for voice in range(1, voices):
        parts.append(_melodic(p[..., voice], starts[..., voice]))
        parts.append(_lengths(p[..., voice : voice + 1], onset[..., voice : voice + 1]))
        position = np.broadcast_to(np.arange(steps) % 4, (n, steps))
        parts.append(_shares(position, starts[..., voice], 4))
        alone = starts[..., voice] & ~starts[..., 0]
        parts.append((alone.sum(axis=1) / np.maximum(starts[..., voice].sum(axis=1), 1))[:, None])
        parts.append((starts[..., voice].sum(axis=1) / steps)[:, None])
        parts.append((~sounding[..., voice]).mean(axis=1)[:, None])
        register = _mean(p[..., voice].astype(np.float64), sounding[..., voice])
        parts.append(((soprano_mean - register) / 12.0)[:, None])
    full = sounding.all(axis=-1)
    pcs = np.where(sounding, 1 << np.mod(p, 12), 0)
    masks = np.bitwise_or.reduce(pcs, axis=-1)
    chord = _chord_table()[masks]
    parts.append(_shares(chord, full, len(CHORD_TYPES)))
    root_position = np.isin(chord, (0, 1)) & (
        _chord_roots()[masks] == np.mod(p[..., voices - 1], 12)
    )
    parts.append(_mean(root_position, full & np.isin(chord, (0, 1)))[:, None])
    changes = full[:, 1:] & full[:, :-1]
    parts.append(_mean(masks[:, 1:] != masks[:, :-1], changes)[:, None])
    return np.concatenate(parts, axis=1)


@functools.cache
def feature_names() -> tuple[str, ...]:
    """A name for each column of :func:`harmony_features`, in order: what the critic weighs.

    Voices are S, A, T, B; ``SA interval 7`` is the share of steps where soprano and alto
    sound a fifth apart (modulo the octave), ``T leap 1`` the share of the tenor's moves by
    one semitone, ``B length 4`` the share of the bass's notes 4 steps long (the bin from
    :data:`LENGTH_BINS`'s 4 up to its next edge).

    >>> names = feature_names()
    >>> names[0], names[-1], len(names) == len(set(names))
    ('SA interval 0', 'chord changes', True)
    """
    voices = "SATB"
    names: list[str] = []
    for upper, lower in itertools.combinations(range(4), 2):
        pair = voices[upper] + voices[lower]
        names += [f"{pair} interval {i}" for i in range(12)]
        names += [f"{pair} crossed", f"{pair} wider than an octave"]
        motions = ("parallel perfect", "similar", "contrary", "oblique")
        names += [f"{pair} {kind} motion" for kind in motions]
    for upper, lower in itertools.pairwise(range(4)):
        pair = voices[upper] + voices[lower]
        names += [f"{pair} span", f"{pair} span squared"]
    for voice in voices[1:]:
        names += [f"{voice} leap {size}" for size in range(LEAP_BINS - 1)]
        names += [f"{voice} leap of an octave or more", f"{voice} rising"]
        names += [f"{voice} length {low}" for low in LENGTH_BINS]
        names += [f"{voice} onsets at sixteenth {i} of the beat" for i in range(4)]
        names += [f"{voice} onsets without the soprano", f"{voice} onsets per step"]
        names += [f"{voice} resting", f"{voice} below the soprano"]
    names += [f"chord {kind}" for kind in CHORD_TYPES]
    names += ["triads in root position", "chord changes"]
    return tuple(names)


@functools.cache
def _chord_roots() -> NDArray[np.intp]:
    """The root of each major or minor triad's pitch-class set (-1 for any other set)."""
    roots = np.full(1 << 12, -1, dtype=np.intp)
    for shape in ((0, 4, 7), (0, 3, 7)):
        for root in range(12):
            roots[sum(1 << ((root + degree) % 12) for degree in shape)] = root
    return roots


def _mean(values: NDArray[Any], mask: NDArray[np.bool_]) -> FloatArray:
    total = np.where(mask, values, 0).sum(axis=1, dtype=np.float64)
    result: FloatArray = total / np.maximum(mask.sum(axis=1), 1)
    return result


def _motion(
    upper: NDArray[np.intp], lower: NDArray[np.intp], both: NDArray[np.bool_]
) -> FloatArray:
    """Shares of parallel-perfect, similar, contrary and oblique motion where a voice moves."""
    step = both[:, 1:] & both[:, :-1]
    up, low = np.sign(np.diff(upper, axis=1)), np.sign(np.diff(lower, axis=1))
    moving = step & ((up != 0) | (low != 0))
    interval = np.mod(upper - lower, 12)
    perfect = (interval[:, 1:] == interval[:, :-1]) & np.isin(interval[:, 1:], (0, 7))
    same = (up == low) & (up != 0)
    kind = np.select([same & perfect, same, up * low < 0], [0, 1, 2], default=3)
    return _shares(kind, moving, 4)


def _melodic(voice: NDArray[np.intp], starts: NDArray[np.bool_]) -> FloatArray:
    """Per passage, the shares of each melodic interval size between notes, and of rising ones."""
    n = len(voice)
    rows, cols = np.nonzero(starts & (voice != REST))
    notes = voice[rows, cols]
    same_row = rows[1:] == rows[:-1]
    leap = (notes[1:] - notes[:-1])[same_row]
    owner = rows[1:][same_row]
    size = np.minimum(np.abs(leap), LEAP_BINS - 1)
    counts = np.zeros((n, LEAP_BINS + 1))
    np.add.at(counts, (owner, size), 1.0)
    np.add.at(counts, (owner, np.full(len(owner), LEAP_BINS)), (leap > 0).astype(np.float64))
    result: FloatArray = counts / np.maximum(counts[:, :LEAP_BINS].sum(axis=1, keepdims=True), 1.0)
    return result


def _lengths(voice: NDArray[np.intp], onset: NDArray[Any]) -> FloatArray:
    """Per passage, the shares of note lengths in :data:`LENGTH_BINS`."""
    n = len(voice)
    starts = note_starts(voice, onset)[..., 0]
    sounding = voice[..., 0] != REST
    note_id = np.cumsum(starts.ravel())
    length = np.bincount(note_id[sounding.ravel()], minlength=int(starts.sum()) + 1)[1:]
    owner = np.repeat(np.arange(n), starts.sum(axis=1))
    kind = np.searchsorted(np.array(LENGTH_BINS), length, side="right") - 1
    counts = np.zeros((n, len(LENGTH_BINS)))
    np.add.at(counts, (owner, kind), 1.0)
    result: FloatArray = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    return result


def segments(
    scores: Sequence[Score],
    downbeats: Sequence[int],
    *,
    bars: int = SEGMENT_BARS,
    steps_per_bar: int = STEPS_PER_BAR,
) -> tuple[NDArray[np.int16], NDArray[np.bool_], NDArray[np.intp]]:
    """Every whole ``bars``-bar passage of each score from its first bar line on.

    Returns ``pitch`` and ``onset`` ``(passages, bars * steps_per_bar, voices)`` and the index
    of the score each passage comes from (the group the cross-validation keeps together).

    >>> score = Score.from_notes(70, [(0, 0, 70, 72)], n_voices=1)
    >>> pitch, onset, group = segments([score, score], [4, 6])
    >>> pitch.shape, group.tolist()
    ((2, 64, 1), [0, 1])
    """
    length = bars * steps_per_bar
    pitch, onset, group = [], [], []
    for index, (score, first) in enumerate(zip(scores, downbeats, strict=True)):
        for start in range(first, score.n_steps - length + 1, length):
            window = score.window(start, length)
            pitch.append(window.pitch)
            onset.append(window.onset)
            group.append(index)
    if not pitch:
        msg = f"no score is long enough for one {bars}-bar passage"
        raise ValueError(msg)
    return np.stack(pitch), np.stack(onset), np.array(group, dtype=np.intp)


def _fit_logistic(x: FloatArray, y: FloatArray, l2: float, iterations: int = 25) -> FloatArray:
    """Weights (bias last) of an L2-penalised logistic regression, by Newton's method."""
    design = np.hstack([x, np.ones((len(x), 1))])
    weights = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        prob = 1.0 / (1.0 + np.exp(-(design @ weights)))
        grad = design.T @ (prob - y) + penalty * weights
        hessian = (design * (prob * (1 - prob))[:, None]).T @ design + np.diag(penalty + 1e-9)
        update = np.linalg.solve(hessian, grad)
        weights -= update
        if np.abs(update).max() < 1e-8:
            break
    return weights


class _Standardiser:
    def __init__(self, x: FloatArray) -> None:
        self.mean = x.mean(axis=0)
        self.scale = np.where(x.std(axis=0) > 1e-9, x.std(axis=0), 1.0)

    def __call__(self, x: FloatArray) -> FloatArray:
        result: FloatArray = (x - self.mean) / self.scale
        return result


def _scores(train_x: FloatArray, train_y: FloatArray, test_x: FloatArray, l2: float) -> FloatArray:
    scale = _Standardiser(train_x)
    weights = _fit_logistic(scale(train_x), train_y, l2)
    result: FloatArray = scale(test_x) @ weights[:-1] + weights[-1]
    return result


def _balanced_accuracy(score: FloatArray, y: FloatArray) -> float:
    positive, negative = y == 1, y == 0
    return float(((score[positive] > 0).mean() + (score[negative] <= 0).mean()) / 2)


def auc(score: FloatArray, y: FloatArray) -> float:
    """Area under the ROC curve: how often a positive outscores a negative (ties count half).

    >>> auc(np.array([0.1, 0.9, 0.4, 0.4]), np.array([0, 1, 1, 0]))
    0.875
    """
    positive, negative = score[y == 1], score[y == 0]
    order = np.argsort(np.concatenate([positive, negative]), kind="stable")
    ranks = np.empty(len(order))
    values = np.concatenate([positive, negative])[order]
    _, first, counts = np.unique(values, return_index=True, return_counts=True)
    ranks[order] = np.repeat(first + (counts + 1) / 2.0, counts)
    return float(
        (ranks[: len(positive)].sum() - len(positive) * (len(positive) + 1) / 2)
        / (len(positive) * len(negative))
    )


def _choose_l2(x: FloatArray, y: FloatArray, groups: NDArray[np.intp]) -> float:
    """The penalty of :data:`L2_GRID` with the best mean log-likelihood, folds by chorale."""
    unique = np.unique(groups)
    fold_of = {
        int(g): int(hashlib.sha256(str(int(g)).encode()).digest()[0]) % FOLDS for g in unique
    }
    fold = np.array([fold_of[int(g)] for g in groups])
    best, best_loss = L2_GRID[0], np.inf
    for l2 in L2_GRID:
        loss = 0.0
        for k in range(FOLDS):
            held = fold == k
            if not held.any() or held.all():
                continue
            logit = _scores(x[~held], y[~held], x[held], l2)
            loss += float(np.logaddexp(0.0, -np.where(y[held] == 1, logit, -logit)).sum())
        if loss < best_loss:
            best, best_loss = l2, loss
    return best


def two_sample_test(
    first_train: Passages, second_train: Passages, first_test: Passages, second_test: Passages
) -> CriticResult:
    """Train a fresh critic to tell ``first`` from ``second`` passages; score it on the test side.

    Each argument is ``(pitch, onset, group)`` (see :data:`Passages`); a re-struck note
    counts as a new note, so a sample that never repeats a note can be told by that.
    """

    def features(passages: Passages) -> FloatArray:
        return harmony_features(passages[0], passages[1])

    train_x = np.vstack([features(first_train), features(second_train)])
    train_y = np.concatenate([np.ones(len(first_train[0])), np.zeros(len(second_train[0]))])
    train_groups = np.concatenate([first_train[2], second_train[2]])
    test_x = np.vstack([features(first_test), features(second_test)])
    test_y = np.concatenate([np.ones(len(first_test[0])), np.zeros(len(second_test[0]))])
    l2 = _choose_l2(train_x, train_y, train_groups)
    score = _scores(train_x, train_y, test_x, l2)
    return CriticResult(
        accuracy=_balanced_accuracy(score, test_y),
        auc=auc(score, test_y),
        l2=l2,
        n_train=len(train_x),
        n_test=len(test_x),
    )
