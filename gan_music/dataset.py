"""The Bach chorales shipped with gan_music: loading, the train/valid/test split, training windows.

``data/chorales.npz`` holds 295 four-voice chorales in 4/4 (built from music21's corpus by
``scripts/build_dataset.py``; see ``docs/data.md``), the only chorales training and model
choice see. ``data/chorales_other_metres.npz`` holds the 35 in other metres (3/4, 3/2, 4/4
changing to 3/4), the unseen test of metre generalisation: :func:`load_other_metre_chorales`
reads them and nothing in training does. Everything here is numpy alone.

>>> chorales = load_chorales()
>>> len(chorales), chorales[0].name, chorales[0].score.n_voices
(295, 'bwv10.7', 4)
>>> split = split_chorales(chorales)
>>> {part: len(items) for part, items in split.items()}
{'train': 235, 'valid': 30, 'test': 30}
>>> windows = make_windows(split["test"], length=32, hop=16, transpose=False)
>>> windows.pitch.shape[1:], windows.pitch.dtype.name, windows.onset.dtype.name
((32, 4), 'int16', 'bool')
>>> bool((windows.bar_offset == 0).all())
True
>>> classes = pitch_to_class(windows.pitch)
>>> bool((class_to_pitch(classes) == windows.pitch).all())
True
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from gan_music.pianoroll import LOWEST_PITCH, N_PITCHES, REST, STEPS_PER_BAR, STEPS_PER_BEAT, Score

DATA_FILE = "chorales.npz"
OTHER_METRES_FILE = "chorales_other_metres.npz"  #: never read by training or model choice
COMMON_TIME = "4/4"
FORMAT_VERSION = 1
N_VOICES = 4
SPLITS = ("train", "valid", "test")
SPLIT_SEED = 0  #: the seed of the shipped model's split; any integer gives another fixed split
VALID_FRACTION = 0.1
TEST_FRACTION = 0.1
TUNE_NGRAM = 8  #: soprano intervals per n-gram compared by :func:`tune_groups`
TUNE_SHARED = 0.2  #: share of n-grams two chorales must have in common to be one tune
TRANSPOSITIONS = range(-6, 6)  #: semitones tried by :func:`make_windows`: every key once


@dataclass(frozen=True)
class Chorale:
    """One chorale: its name (``"bwv269"``), four voices S, A, T, B, and its metre.

    ``first_downbeat`` is the step of the first bar line, 0 unless the piece opens with a
    pickup; step ``s`` lies at position ``(s - first_downbeat) % steps_per_bar`` of its bar.
    The metre fields default to 4/4, the metre of every chorale :func:`load_chorales` gives;
    those of :func:`load_other_metre_chorales` say their own (3/4: 12 and 4 sixteenths).
    """

    name: str
    score: Score
    first_downbeat: int
    steps_per_bar: int = STEPS_PER_BAR  #: sixteenths per bar
    steps_per_beat: int = STEPS_PER_BEAT  #: sixteenths per beat: 4 in 3/4, 8 in 3/2, 6 in 6/8
    time_signature: str = COMMON_TIME  #: as written, e.g. ``"3/4"``


@dataclass(frozen=True, eq=False)
class WindowSet:
    """Fixed-length windows cut from chorales, one row per window (and transposition).

    ``pitch`` ``(n, length, 4)`` int16 MIDI pitches with ``REST`` for silence; ``onset`` the
    same shape, bool; ``chorale`` the index of the source in the list given to
    :func:`make_windows`; ``start`` the window's first step in that chorale; ``bar_offset``
    the position of that step in its bar (0 = on a bar line); ``transposition`` the
    semitones added to every pitch.
    """

    pitch: NDArray[np.int16]
    onset: NDArray[np.bool_]
    chorale: NDArray[np.intp]
    start: NDArray[np.intp]
    bar_offset: NDArray[np.intp]
    transposition: NDArray[np.intp]

    def __len__(self) -> int:
        return int(self.pitch.shape[0])

    def take(self, index: ArrayLike) -> WindowSet:
        """The windows at ``index`` (an integer array or a boolean mask), e.g. one batch."""
        rows = np.asarray(index)
        return WindowSet(
            self.pitch[rows],
            self.onset[rows],
            self.chorale[rows],
            self.start[rows],
            self.bar_offset[rows],
            self.transposition[rows],
        )


def load_chorales() -> list[Chorale]:
    """Every shipped chorale, sorted by name.

    The arrays inside are shared between calls and read-only: copy one before changing it.

    >>> chorales = load_chorales()
    >>> sum(chorale.first_downbeat > 0 for chorale in chorales)  # pieces opening with a pickup
    210
    >>> chorales[0].score.pitch.flags.writeable
    False
    """
    return list(_decoded_chorales())


def load_other_metre_chorales() -> list[Chorale]:
    """The chorales not in 4/4 throughout, one per stretch in one metre, sorted by name.

    They are the unseen test of metre generalisation: never used for training or for
    choosing models and settings (``scripts/metre_generalisation.py`` reports on them). A
    chorale whose time signature changes comes as one :class:`Chorale` per section, named
    ``"bwv304:1"``, ``"bwv304:2"``, ...; a later section starts on its first bar line. The
    arrays are shared and read-only, as with :func:`load_chorales`.

    >>> chorales = load_other_metre_chorales()
    >>> len(chorales), sorted({c.time_signature for c in chorales})
    (37, ['3/2', '3/4', '4/4'])
    >>> waltz = chorales[0]
    >>> waltz.name, waltz.steps_per_bar, waltz.steps_per_beat, waltz.first_downbeat
    ('bwv11.6', 12, 4, 0)
    >>> [(c.name, c.time_signature) for c in chorales if c.name.startswith("bwv304")]
    [('bwv304:1', '4/4'), ('bwv304:2', '3/4')]
    """
    return list(_decoded_other_metres())


# Decoding takes a few tens of milliseconds and training, evaluation and the example melody all
# ask for the chorales, sometimes many times in one process (every test, for instance). The cache
# decodes the file once per process; the arrays are made read-only so sharing them is safe.
@functools.cache
def _decoded_chorales() -> tuple[Chorale, ...]:
    return tuple(_decode(_read(DATA_FILE)))


@functools.cache
def _decoded_other_metres() -> tuple[Chorale, ...]:
    arrays = _read(OTHER_METRES_FILE)
    sections = []
    for index, whole in enumerate(_decode(arrays, OTHER_METRES_FILE)):
        begin, end = arrays["metre_offsets"][index : index + 2].tolist()
        starts = [*arrays["metre_start"][begin:end].tolist(), whole.score.n_steps]
        for k, section in enumerate(range(begin, end)):
            window = whole.score.window(starts[k], starts[k + 1] - starts[k])
            window.pitch.setflags(write=False)
            window.onset.setflags(write=False)
            sections.append(
                Chorale(
                    whole.name if end - begin == 1 else f"{whole.name}:{k + 1}",
                    window,
                    whole.first_downbeat if k == 0 else 0,
                    int(arrays["steps_per_bar"][section]),
                    int(arrays["steps_per_beat"][section]),
                    str(arrays["time_signature"][section]),
                )
            )
    return tuple(sections)


def _read(file_name: str) -> dict[str, NDArray[np.generic]]:
    resource = importlib.resources.files("gan_music") / "data" / file_name
    with resource.open("rb") as stream, np.load(stream, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    if int(arrays["format_version"]) != FORMAT_VERSION:
        msg = f"{file_name} has format {arrays['format_version']}, expected {FORMAT_VERSION}"
        raise RuntimeError(msg)
    return arrays


def _decode(arrays: dict[str, NDArray[np.generic]], file_name: str = DATA_FILE) -> list[Chorale]:
    """Chorales from the run-length arrays written by ``scripts/build_dataset.py``."""
    event_pitch = arrays["pitch"].astype(np.int16)
    duration = arrays["duration"].astype(np.intp)
    step_pitch = np.repeat(event_pitch, duration)
    step_onset = np.zeros(len(step_pitch), dtype=bool)
    event_start = np.concatenate([[0], np.cumsum(duration)[:-1]])
    step_onset[event_start] = event_pitch != REST
    step_bounds = np.concatenate([[0], np.cumsum(duration)])[arrays["voice_offsets"]]
    chorales = []
    for index, name in enumerate(arrays["names"].tolist()):
        n_steps = int(arrays["n_steps"][index])
        bounds = step_bounds[N_VOICES * index : N_VOICES * (index + 1) + 1]
        first = bounds[:-1]
        if np.any(np.diff(bounds) != n_steps):
            msg = f"{file_name}: the voices of {name} do not all last {n_steps} steps"
            raise RuntimeError(msg)
        rows = first[None, :] + np.arange(n_steps)[:, None]
        score = Score(step_pitch[rows], step_onset[rows])
        score.pitch.setflags(write=False)
        score.onset.setflags(write=False)
        chorales.append(Chorale(str(name), score, int(arrays["first_downbeat"][index])))
    return chorales


def split_chorales(
    chorales: Sequence[Chorale],
    seed: int = SPLIT_SEED,
    valid_fraction: float = VALID_FRACTION,
    test_fraction: float = TEST_FRACTION,
) -> dict[str, list[Chorale]]:
    """Split chorales into ``"train"``, ``"valid"`` and ``"test"``, whole tunes at a time.

    Bach harmonised some tunes several times, sometimes transposed or with a passing note
    changed. :func:`tune_groups` joins chorales whose sopranos share a large part of their
    interval n-grams, and a group always goes to one part, so no test melody (nor a close
    variant of it) is seen in training. Groups are ordered by the SHA-256 of
    ``f"{seed}:{name}"`` (name of the group's first chorale) and dealt to test, then valid,
    until each holds its fraction of the chorales (rounded); the rest is train. Hashing,
    unlike a numpy random stream, gives the same split with every numpy and Python version.
    Each part keeps the input order.

    >>> split = split_chorales(load_chorales())
    >>> [chorale.name for chorale in split["test"][:3]]
    ['bwv103.6', 'bwv110.7', 'bwv144.6']
    >>> sorted(len(split_chorales(load_chorales(), seed=s)["test"]) for s in range(3))
    [30, 30, 30]
    """

    def order(members: list[int]) -> bytes:
        first = min(chorales[i].name for i in members)
        return hashlib.sha256(f"{seed}:{first}".encode()).digest()

    targets = {
        "test": round(test_fraction * len(chorales)),
        "valid": round(valid_fraction * len(chorales)),
    }
    part_of: dict[int, str] = {}
    filled = dict.fromkeys(SPLITS, 0)
    for members in sorted(tune_groups(chorales), key=order):
        part = next((p for p, target in targets.items() if filled[p] < target), "train")
        filled[part] += len(members)
        part_of.update(dict.fromkeys(members, part))
    return {
        part: [chorale for i, chorale in enumerate(chorales) if part_of[i] == part]
        for part in SPLITS
    }


def tune_groups(
    chorales: Sequence[Chorale], n: int = TUNE_NGRAM, threshold: float = TUNE_SHARED
) -> list[list[int]]:
    """Indices of chorales that share a tune, one sorted list per group, joined transitively.

    Two chorales are linked when at least ``threshold`` of the soprano interval ``n``-grams
    of the one with fewer distinct n-grams also occur in the other's (intervals in semitones
    between successive notes, rests skipped, so a transposition or a change of rhythm is
    the same tune and one ornament changes only a few n-grams). A soprano shorter than
    ``n + 1`` notes is compared by its whole interval sequence. Linked chorales, and chains
    of them, form one group.

    >>> chorales = load_chorales()
    >>> groups = tune_groups(chorales)
    >>> len(groups), max(len(group) for group in groups)
    (177, 9)
    >>> names = {c.name: i for i, c in enumerate(chorales)}
    >>> any({names["bwv430"], names["bwv428"]} <= set(group) for group in groups)
    True
    """
    gram_sets = [_interval_ngrams(chorale.score, n) for chorale in chorales]
    holders: dict[tuple[int, ...], list[int]] = {}
    for index, grams in enumerate(gram_sets):
        for gram in grams:
            holders.setdefault(gram, []).append(index)
    shared: dict[tuple[int, int], int] = {}
    for members in holders.values():
        for pos, first in enumerate(members):
            for second in members[pos + 1 :]:
                shared[first, second] = shared.get((first, second), 0) + 1
    parent = list(range(len(chorales)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for (first, second), count in shared.items():
        if count >= threshold * min(len(gram_sets[first]), len(gram_sets[second])):
            parent[root(first)] = root(second)
    groups: dict[int, list[int]] = {}
    for index in range(len(chorales)):
        groups.setdefault(root(index), []).append(index)
    return list(groups.values())


def _interval_ngrams(score: Score, n: int) -> set[tuple[int, ...]]:
    """The soprano's interval ``n``-grams (or its whole interval sequence if shorter)."""
    notes = score.pitch[score.onset[:, 0], 0]
    intervals = np.diff(notes[notes != REST].astype(np.intp)).tolist()
    if len(intervals) < n:
        return {tuple(intervals)}
    return {tuple(intervals[i : i + n]) for i in range(len(intervals) - n + 1)}


def make_windows(
    chorales: Sequence[Chorale],
    length: int = 32,
    hop: int = 16,
    transpose: bool = True,
    align_to_bars: bool = True,
    transpositions: Iterable[int] = TRANSPOSITIONS,
    lowest: int = LOWEST_PITCH,
    n_pitches: int = N_PITCHES,
) -> WindowSet:
    """Every ``length``-step window, ``hop`` steps apart, of every chorale, in every allowed key.

    With ``align_to_bars`` the first window of a chorale starts at its first bar line (so with a
    ``hop`` of whole bars every window does); otherwise at step 0. No window runs past the end.
    With ``transpose`` each window appears once per semitone shift in ``transpositions`` that
    keeps all its notes inside MIDI ``lowest .. lowest + n_pitches - 1`` (the model's pitch
    axis); without it, only unshifted windows inside that range. A note already sounding at a
    window's first step gets an onset there, as in :meth:`Score.window`.

    >>> one = load_chorales()[:1]
    >>> plain = make_windows(one, transpose=False)
    >>> shifted = make_windows(one)
    >>> len(plain), len(shifted), sorted(set(shifted.transposition.tolist()))
    (21, 252, [-6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5])
    >>> plain.start[:3].tolist(), plain.bar_offset[:3].tolist()
    ([0, 16, 32], [0, 0, 0])
    """
    if length <= 0 or hop <= 0:
        msg = f"length and hop must be positive, got length={length}, hop={hop}"
        raise ValueError(msg)
    if not chorales:
        return _empty_windows(length)
    n_steps = np.array([c.score.n_steps for c in chorales], dtype=np.intp)
    downbeat = np.array([c.first_downbeat for c in chorales], dtype=np.intp)
    first = downbeat if align_to_bars else np.zeros_like(downbeat)
    counts = np.maximum(0, (n_steps - length - first) // hop + 1)
    chorale = np.repeat(np.arange(len(chorales)), counts)
    rank = np.arange(len(chorale)) - np.repeat(np.cumsum(counts) - counts, counts)
    start = first[chorale] + rank * hop
    pitch_all = np.concatenate([c.score.pitch for c in chorales])
    onset_all = np.concatenate([c.score.onset for c in chorales])
    rows = (np.cumsum(n_steps) - n_steps)[chorale, None] + start[:, None] + np.arange(length)
    pitch = pitch_all[rows]
    onset = onset_all[rows]
    onset[:, 0, :] = pitch[:, 0, :] != REST

    shifts = np.array(sorted(set(transpositions)) if transpose else [0], dtype=np.intp)
    sounding = pitch != REST
    low = np.where(sounding, pitch, np.iinfo(np.int16).max).min(axis=(1, 2)).astype(np.intp)
    high = np.where(sounding, pitch, np.iinfo(np.int16).min).max(axis=(1, 2)).astype(np.intp)
    fits = (low[:, None] + shifts >= lowest) & (high[:, None] + shifts < lowest + n_pitches)
    window, shift = np.nonzero(fits)
    semitones = shifts[shift]
    moved = np.where(sounding[window], pitch[window] + semitones[:, None, None], REST)
    return WindowSet(
        pitch=moved.astype(np.int16),
        onset=onset[window],
        chorale=chorale[window],
        start=start[window],
        bar_offset=(start[window] - downbeat[chorale[window]]) % STEPS_PER_BAR,
        transposition=semitones,
    )


def _empty_windows(length: int) -> WindowSet:
    none = np.zeros(0, dtype=np.intp)
    return WindowSet(
        np.zeros((0, length, N_VOICES), np.int16),
        np.zeros((0, length, N_VOICES), bool),
        none,
        none,
        none,
        none,
    )


def pitch_to_class(
    pitch: ArrayLike, lowest: int = LOWEST_PITCH, n_pitches: int = N_PITCHES
) -> NDArray[np.intp]:
    """Class indices of MIDI pitches: ``pitch - lowest`` on the pitch axis, ``n_pitches`` for REST.

    Pitches outside ``lowest .. lowest + n_pitches - 1`` raise ``ValueError``.

    >>> pitch_to_class([36, 60, 83, -1]).tolist()
    [0, 24, 47, 48]
    """
    values = np.asarray(pitch).astype(np.intp)
    rest = values == REST
    outside = ~rest & ((values < lowest) | (values >= lowest + n_pitches))
    if outside.any():
        msg = (
            f"pitch {int(values[outside][0])} is outside the model's range MIDI "
            f"{lowest}..{lowest + n_pitches - 1}: shift it by octaves first"
        )
        raise ValueError(msg)
    return np.where(rest, n_pitches, values - lowest)


def class_to_pitch(
    classes: ArrayLike, lowest: int = LOWEST_PITCH, n_pitches: int = N_PITCHES
) -> NDArray[np.int16]:
    """MIDI pitches of class indices; the inverse of :func:`pitch_to_class`.

    >>> class_to_pitch([0, 24, 47, 48]).tolist()
    [36, 60, 83, -1]
    """
    values = np.asarray(classes).astype(np.intp)
    if values.size and (values.min() < 0 or values.max() > n_pitches):
        msg = f"class indices must lie in 0..{n_pitches}"
        raise ValueError(msg)
    return np.where(values == n_pitches, REST, values + lowest).astype(np.int16)


def to_onehot(
    pitch: ArrayLike, lowest: int = LOWEST_PITCH, n_pitches: int = N_PITCHES
) -> NDArray[np.float32]:
    """A float32 one-hot ``(..., n_pitches + 1)`` of MIDI pitches; the last class is REST.

    >>> onehot = to_onehot([[60, -1]])
    >>> onehot.shape, onehot.dtype.name, float(onehot[0, 0, 24]), float(onehot[0, 1, 48])
    ((1, 2, 49), 'float32', 1.0, 1.0)
    """
    return one_hot(pitch_to_class(pitch, lowest, n_pitches), n_pitches + 1)


def one_hot(
    classes: NDArray[np.integer], n_classes: int = N_PITCHES + 1, dtype: DTypeLike = np.float32
) -> NDArray[Any]:
    """``(...)`` class indices to ``(..., n_classes)`` one-hots.

    >>> one_hot(np.array([0, 2]), 3).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    out = np.zeros((*classes.shape, n_classes), dtype)
    np.put_along_axis(out, classes[..., None], 1.0, axis=-1)
    return out


def from_onehot(scores: ArrayLike, lowest: int = LOWEST_PITCH) -> NDArray[np.int16]:
    """MIDI pitches from one-hots, probabilities or logits ``(..., n_pitches + 1)`` (arg-max).

    >>> from_onehot(to_onehot([40, -1, 83])).tolist()
    [40, -1, 83]
    """
    values = np.asarray(scores)
    return class_to_pitch(values.argmax(axis=-1), lowest, values.shape[-1] - 1)
