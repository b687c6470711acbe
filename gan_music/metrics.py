"""Musical quality metrics for four-voice scores, vectorised over batches of windows.

Every metric takes arrays with a leading batch axis: ``pitch`` of shape ``(n, steps, voices)``
holding MIDI numbers or ``REST`` (-1), and where notes matter ``onset`` of the same shape.
Voice 0 is the melody (soprano), the others its accompaniment. Step 0 of each window is taken
to be a downbeat; bar and beat lengths default to 4/4 (16 and 4 sixteenths) and can be given
for any metre (``steps_per_bar``, ``steps_per_beat``). Figures are pooled over the whole batch (every bar, beat, note or step
counts once), not averaged per window. :func:`score_metrics` computes them all for one
:class:`~gan_music.pianoroll.Score`. The exact definitions, and how they differ from the
reference implementations, are in ``docs/metrics.md``.

>>> from gan_music.pianoroll import Score
>>> score = Score.from_notes(16, [(0, 0, 16, 72), (1, 0, 16, 64), (2, 0, 16, 60), (3, 0, 16, 48)])
>>> round(pitch_consonance(score.pitch[None]), 3)
1.0
>>> empty_bars(score.pitch[None]).tolist()
[0.0, 0.0, 0.0, 0.0]
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gan_music.pianoroll import REST, STEPS_PER_BAR, STEPS_PER_BEAT, Score

FloatArray = NDArray[np.float64]

#: Interval classes (semitones mod 12) scored by :func:`pitch_consonance`.
CONSONANT = (0, 3, 4, 7, 8, 9)  #: unison/octave, thirds, fifth, sixths: +1
PERFECT_FOURTH = 5  #: 0, consonant or dissonant by context; every other interval scores -1

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
NATURAL_MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)

#: Radii of the three circles of Harte et al.'s tonal centroid: fifths, minor thirds, major thirds.
TONAL_RADII = (1.0, 1.0, 0.5)

VOICE_LETTERS = ("S", "A", "T", "B")  #: short voice names used in metric keys


def _as_batch(pitch: ArrayLike, name: str = "pitch") -> NDArray[np.int64]:
    array = np.asarray(pitch, dtype=np.int64)
    if array.ndim != 3:
        msg = f"{name} must have shape (windows, steps, voices); got {array.shape}"
        raise ValueError(msg)
    return array


def _bars(array: NDArray[np.int64], steps_per_bar: int) -> NDArray[np.int64]:
    """``(n, steps, voices)`` as ``(n * bars, steps_per_bar, voices)``, less a final partial bar."""
    n, steps, voices = array.shape
    bars = steps // steps_per_bar
    return array[:, : bars * steps_per_bar].reshape(n * bars, steps_per_bar, voices)


def pitch_class_counts(pitch: ArrayLike) -> NDArray[np.int64]:
    """How many entries of each pitch class (MIDI 60 is class 0), summed over the last axis.

    This is the chroma of an ascending piano roll that starts on a C, ``roll.reshape(octaves,
    12).sum(0)``, computed from pitch numbers directly; rests are not counted.

    >>> pitch_class_counts([60, 64, 67, 72, -1]).tolist()
    [2, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0]
    >>> from gan_music.pianoroll import Score
    >>> roll = Score.from_notes(1, [(0, 0, 1, 48), (1, 0, 1, 64), (2, 0, 1, 79)], 3).to_pianoroll()
    >>> roll[0].sum(-1).reshape(4, 12).sum(0).tolist() == pitch_class_counts([48, 64, 79]).tolist()
    True
    """
    array = np.asarray(pitch, dtype=np.int64)
    one_hot = (array[..., None] % 12 == np.arange(12)) & (array[..., None] != REST)
    counts: NDArray[np.int64] = one_hot.sum(axis=-2, dtype=np.int64)
    return counts


def empty_bars(pitch: ArrayLike, *, steps_per_bar: int = STEPS_PER_BAR) -> FloatArray:
    """EB: per voice, the share of bars in which the voice plays no note at all.

    >>> import numpy as np
    >>> pitch = np.full((1, 32, 2), 60); pitch[0, 16:, 1] = -1
    >>> empty_bars(pitch).tolist()
    [0.0, 0.5]
    """
    bars = _bars(_as_batch(pitch), steps_per_bar)
    result: FloatArray = (bars == REST).all(axis=1).mean(axis=0)
    return result


def used_pitch_classes(pitch: ArrayLike, *, steps_per_bar: int = STEPS_PER_BAR) -> FloatArray:
    """UPC: per voice, the mean number of distinct pitch classes sounding in a bar.

    >>> import numpy as np
    >>> pitch = np.array([60, 72, 64, 64] * 4).reshape(1, 16, 1)
    >>> used_pitch_classes(pitch).tolist()
    [2.0]
    """
    bars = _bars(_as_batch(pitch), steps_per_bar)
    present = pitch_class_counts(bars.transpose(0, 2, 1)) > 0  # (bars, voices, 12)
    result: FloatArray = present.sum(axis=-1).mean(axis=0)
    return result


def note_starts(pitch: ArrayLike, onset: ArrayLike) -> NDArray[np.bool_]:
    """Where a note starts: a marked onset, a change of pitch, or sound after silence.

    This is how :class:`~gan_music.pianoroll.Score` reads notes, applied to raw arrays.

    >>> note_starts([[[60], [60], [62], [-1], [62]]], [[[1], [0], [0], [0], [0]]])[0, :, 0].tolist()
    [True, False, True, False, True]
    """
    array = _as_batch(pitch)
    marked = np.asarray(onset, dtype=bool)
    sounding = array != REST
    starts: NDArray[np.bool_] = sounding & marked
    starts[:, 0] |= sounding[:, 0]
    starts[:, 1:] |= sounding[:, 1:] & ((array[:, 1:] != array[:, :-1]) | ~sounding[:, :-1])
    return starts


def note_lengths(pitch: ArrayLike, onset: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Every note's length in steps and its voice; a note cut by the window's end counts as cut.

    >>> pitch, onset = [[[60], [60], [62], [-1], [62]]], [[[1], [1], [0], [0], [0]]]
    >>> lengths, voices = note_lengths(pitch, onset)
    >>> lengths.tolist(), voices.tolist()
    ([1, 1, 1, 1], [0, 0, 0, 0])
    """
    array = _as_batch(pitch)
    n, steps, voices = array.shape
    starts = note_starts(array, onset).transpose(0, 2, 1).reshape(n * voices, steps)
    sounding = (array != REST).transpose(0, 2, 1).reshape(n * voices, steps)
    note_id = np.cumsum(starts.ravel())  # every sounding step belongs to the last start before it
    n_notes = int(starts.sum())
    lengths = np.bincount(note_id[sounding.ravel()], minlength=n_notes + 1)[1:]
    voice_of_row = np.tile(np.arange(voices), n)
    note_voices = np.repeat(voice_of_row, starts.sum(axis=1))
    return lengths.astype(np.int64), note_voices.astype(np.int64)


def qualified_notes(pitch: ArrayLike, onset: ArrayLike, *, min_steps: int = 2) -> FloatArray:
    """QN: per voice, the share of notes lasting at least ``min_steps`` steps (NaN: no notes).

    Notes come from onsets, so two repeated 16ths are two short notes, not one long one.

    >>> import numpy as np
    >>> pitch = np.full((1, 4, 1), 60)  # a 16th, then the same pitch again for three 16ths
    >>> qualified_notes(pitch, [[[1], [1], [0], [0]]]).tolist()
    [0.5]
    """
    lengths, voices = note_lengths(pitch, onset)
    n_voices = _as_batch(pitch).shape[2]
    total = np.bincount(voices, minlength=n_voices)
    long = np.bincount(voices[lengths >= min_steps], minlength=n_voices)
    with np.errstate(invalid="ignore", divide="ignore"):
        result: FloatArray = long / total
    return result


#: Note-length bins of :func:`note_length_shares`, in steps: 1, 2, 3, 4, 5-7, 8, 9-15, 16 or more.
LENGTH_BINS = (1, 2, 3, 4, 5, 8, 9, 16)


def note_length_shares(pitch: ArrayLike, onset: ArrayLike) -> FloatArray:
    """Per voice, the share of its notes in each of the :data:`LENGTH_BINS` (rows sum to 1).

    A voice without notes gets a row of NaN.

    >>> import numpy as np
    >>> pitch = np.full((1, 8, 1), 60)
    >>> onset = np.zeros((1, 8, 1), bool); onset[0, [0, 1, 4], 0] = True  # a 16th, an 8th-dot...
    >>> note_length_shares(pitch, onset)[0].round(3).tolist()
    [0.333, 0.0, 0.333, 0.333, 0.0, 0.0, 0.0, 0.0]
    """
    lengths, voices = note_lengths(pitch, onset)
    n_voices = _as_batch(pitch).shape[2]
    kind = np.searchsorted(np.array(LENGTH_BINS), lengths, side="right") - 1
    counts = np.zeros((n_voices, len(LENGTH_BINS)))
    np.add.at(counts, (voices, kind), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        result: FloatArray = counts / counts.sum(axis=1, keepdims=True)
    return result


def repeated_notes(pitch: ArrayLike, onset: ArrayLike) -> FloatArray:
    """Per voice, the share of notes that repeat the pitch of the note just before (NaN: none).

    >>> import numpy as np
    >>> pitch = np.array([60, 60, 62, 62]).reshape(1, 4, 1)
    >>> repeated_notes(pitch, np.ones((1, 4, 1), bool)).tolist()  # every step struck
    [0.5]
    """
    array = _as_batch(pitch)
    starts = note_starts(array, onset)
    previous = np.zeros_like(starts)
    previous[:, 1:] = starts[:, 1:] & (array[:, 1:] == array[:, :-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        result: FloatArray = previous.sum(axis=(0, 1)) / starts.sum(axis=(0, 1))
    return result


def tonal_centroid_matrix() -> FloatArray:
    """Harte et al.'s ``(6, 12)`` projection of a chroma onto circles of fifths and thirds."""
    pitch_class = np.arange(12)
    rows = []
    for radius, step in zip(
        TONAL_RADII, (7 * np.pi / 6, 3 * np.pi / 2, 2 * np.pi / 3), strict=True
    ):
        rows += [radius * np.sin(pitch_class * step), radius * np.cos(pitch_class * step)]
    return np.array(rows)


def tonal_centroid(chroma: ArrayLike) -> FloatArray:
    """The 6-D tonal centroid of chroma vectors ``(..., 12)``, each first L1-normalised.

    An all-zero chroma gives NaN.

    >>> [round(x, 4) for x in tonal_centroid([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).tolist()]
    [0.0, 1.0, 0.0, 1.0, 0.0, 0.5]
    """
    weights = np.asarray(chroma, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        normalised = weights / np.abs(weights).sum(axis=-1, keepdims=True)
    result: FloatArray = normalised @ tonal_centroid_matrix().T
    return result


def chroma_distance(first: ArrayLike, second: ArrayLike) -> FloatArray:
    """Euclidean distance between the tonal centroids of two chroma arrays ``(..., 12)``.

    >>> c, g = np.eye(12)[0], np.eye(12)[7]
    >>> round(float(chroma_distance(c, g)), 4)
    1.7372
    """
    difference = tonal_centroid(first) - tonal_centroid(second)
    result: FloatArray = np.sqrt((difference**2).sum(axis=-1))
    return result


def tonal_distance(pitch: ArrayLike, *, steps_per_beat: int = STEPS_PER_BEAT) -> float:
    """TD: mean tonal-centroid distance between melody and accompaniment chroma, per beat.

    Each beat's chroma counts sounding steps (so longer notes weigh more); beats where the
    melody or the accompaniment is silent are skipped. NaN when every beat is skipped.

    >>> import numpy as np
    >>> pitch = np.array([[72, 60, 48, 36]] * 4).reshape(1, 4, 4)
    >>> round(tonal_distance(pitch), 4)
    0.0
    """
    beats = _bars(_as_batch(pitch), steps_per_beat)  # (beats, steps_per_beat, voices)
    melody = pitch_class_counts(beats[:, :, 0])
    accompaniment = pitch_class_counts(beats[:, :, 1:].reshape(len(beats), -1))
    keep = (melody.sum(axis=1) > 0) & (accompaniment.sum(axis=1) > 0)
    if not keep.any():
        return float("nan")
    return float(chroma_distance(melody[keep], accompaniment[keep]).mean())


def pitch_consonance(pitch: ArrayLike) -> float:
    """PCS: mean score of every sounding (melody, accompaniment voice) pair at every step.

    The interval is ``abs(melody - voice) % 12``: 0, 3, 4, 7, 8, 9 score +1, a fourth (5)
    scores 0, the rest -1. NaN when no pair sounds together.

    >>> import numpy as np
    >>> pitch = np.array([[72, 67, 64, 60]]).reshape(1, 1, 4)  # a fourth, a minor sixth, an octave
    >>> pitch_consonance(pitch)
    0.6666666666666666
    """
    array = _as_batch(pitch)
    melody = array[..., :1]
    accompaniment = array[..., 1:]
    both = (melody != REST) & (accompaniment != REST)
    interval = np.abs(melody - accompaniment) % 12
    score = np.where(np.isin(interval, CONSONANT), 1.0, -1.0)
    score[interval == PERFECT_FOURTH] = 0.0
    if not both.any():
        return float("nan")
    return float(score[both].mean())


def scale_masks() -> NDArray[np.bool_]:
    """``(24, 12)`` pitch-class masks: 12 major scales, then 12 natural minor scales, on C..B."""
    masks = np.zeros((24, 12), dtype=bool)
    for tonic in range(12):
        masks[tonic, [(tonic + degree) % 12 for degree in MAJOR_SCALE]] = True
        masks[12 + tonic, [(tonic + degree) % 12 for degree in NATURAL_MINOR_SCALE]] = True
    return masks


def scale_consistency(pitch: ArrayLike) -> float:
    """Per window, the share of sounding steps (all voices; a held note counts at every step)
    inside the best-fitting major or natural minor scale; the mean over windows that sound at
    all (NaN if none does).

    >>> import numpy as np
    >>> pitch = np.array([60, 62, 64, 66]).reshape(1, 4, 1)  # F# is outside C major, inside G
    >>> scale_consistency(pitch)
    1.0
    >>> pitch = np.array([60, 60, 61, 62]).reshape(1, 4, 1)  # a half-note C, then C# and D
    >>> scale_consistency(pitch)
    0.75
    """
    array = _as_batch(pitch)
    counts = pitch_class_counts(array.reshape(len(array), -1))  # (n, 12)
    totals = counts.sum(axis=1)
    in_scale = counts @ scale_masks().T.astype(np.int64)  # (n, 24)
    keep = totals > 0
    if not keep.any():
        return float("nan")
    return float((in_scale[keep].max(axis=1) / totals[keep]).mean())


def _voice_pairs(n_voices: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    upper, lower = np.triu_indices(n_voices, k=1)
    return upper, lower


def parallel_motion(pitch: ArrayLike) -> tuple[int, int]:
    """Count parallel fifths/octaves and the voice-pair motions they are counted among.

    Returns ``(parallels, both_moving)`` pooled over all voice pairs; see :func:`parallel_rate`.

    >>> import numpy as np
    >>> pitch = np.array([[67, 60], [69, 62], [69, 62]]).reshape(1, 3, 2)
    >>> parallel_motion(pitch)
    (1, 1)
    """
    array = _as_batch(pitch)
    sounding = array != REST
    moved = sounding[:, 1:] & sounding[:, :-1] & (array[:, 1:] != array[:, :-1])
    step = np.sign(array[:, 1:] - array[:, :-1])
    upper, lower = _voice_pairs(array.shape[2])
    interval = np.abs(array[..., upper] - array[..., lower]) % 12  # (n, steps, pairs)
    both = moved[..., upper] & moved[..., lower]
    same_direction = step[..., upper] == step[..., lower]
    before, after = interval[:, :-1], interval[:, 1:]
    perfect = ((before == 7) & (after == 7)) | ((before == 0) & (after == 0))
    parallels = both & same_direction & perfect
    return int(parallels.sum()), int(both.sum())


def parallel_rate(pitch: ArrayLike) -> float:
    """Share of parallel fifths and octaves among steps where two voices both change pitch.

    For every pair of voices (all six pairs of four voices, the melody included) and every
    step ``t >= 1`` at which both voices sound at ``t - 1`` and ``t`` with a different pitch
    at ``t``: it is parallel if both moved in the same direction and the interval
    ``abs(upper - lower) % 12`` is 7 at both steps, or 0 at both steps. Consecutive *steps*
    are compared, so a repeated note or a rest is not a change. NaN when nothing moves.

    >>> import numpy as np
    >>> melody = np.array([60, 62, 64, 65])
    >>> rule = np.stack([melody, melody - 5, melody - 12, melody - 24], axis=-1)[None]
    >>> round(parallel_rate(rule), 4)
    0.8333
    """
    parallels, both = parallel_motion(pitch)
    return parallels / both if both else float("nan")


def crossing_rate(pitch: ArrayLike) -> float:
    """Share of steps, among those where every voice sounds, where some voice is above the one
    listed before it (alto above soprano, tenor above alto, bass above tenor). NaN if none.

    >>> import numpy as np
    >>> pitch = np.array([[72, 67, 64, 48], [72, 74, 64, 48]]).reshape(1, 2, 4)
    >>> crossing_rate(pitch)
    0.5
    """
    array = _as_batch(pitch)
    full = np.all(array != REST, axis=-1)
    crossed = np.any(array[..., 1:] > array[..., :-1], axis=-1)
    return float(np.mean(crossed[full])) if full.any() else float("nan")


def diversity(first: ArrayLike, second: ArrayLike) -> float:
    """Share of (window, step, voice) cells whose pitch differs between two generations.

    Pass the accompaniment voices of two generations of the same melodies with different noise.

    >>> diversity([[[60, 55], [60, 55]]], [[[60, 55], [62, 55]]])
    0.25
    """
    a = np.asarray(first)
    b = np.asarray(second)
    if a.shape != b.shape:
        msg = f"the two generations must have the same shape; got {a.shape} and {b.shape}"
        raise ValueError(msg)
    return float((a != b).mean())


class NearestNeighbours(NamedTuple):
    """How close generated windows come to the training set."""

    copies: float  #: share of generated windows equal to some training window
    distance: float  #: mean share of cells differing from the nearest training window


def nearest_neighbours(
    generated: ArrayLike, training: ArrayLike, *, chunk_bytes: int = 1 << 22
) -> NearestNeighbours:
    """Hamming distance of each generated window to its nearest training window.

    Both arrays are ``(n, steps, voices)`` pitch arrays (usually the accompaniment voices).
    Exact copies are found by hashing. For the others, a chunk of generated windows is
    compared with every training window one cell at a time, adding up the differences
    (``chunk_bytes`` bounds that running count), which streams through the training set
    far faster than building the full ``(chunk, windows, cells)`` comparison.

    >>> import numpy as np
    >>> train = np.array([[[60, 55], [60, 55]], [[62, 57], [62, 57]]])
    >>> nearest_neighbours(train[:1], train)
    NearestNeighbours(copies=1.0, distance=0.0)
    >>> nearest_neighbours([[[62, 57], [64, 57]]], train)
    NearestNeighbours(copies=0.0, distance=0.25)
    """
    gen = np.asarray(generated, dtype=np.int16)
    gen = np.ascontiguousarray(gen.reshape(len(gen), -1))
    ref = np.asarray(training, dtype=np.int16)
    ref = ref.reshape(len(ref), -1)
    cells = gen.shape[1]
    if cells != ref.shape[1]:
        msg = f"windows differ in size: generated {cells} cells, training {ref.shape[1]}"
        raise ValueError(msg)
    if not len(gen) or not len(ref):
        return NearestNeighbours(float("nan"), float("nan"))
    known = {row.tobytes() for row in np.ascontiguousarray(ref)}
    copies = np.array([row.tobytes() in known for row in gen])
    nearest = np.zeros(len(gen))
    todo = np.flatnonzero(~copies)
    by_cell = np.ascontiguousarray(ref.T)  # (cells, training windows)
    count_type = np.uint8 if cells < 256 else np.uint32
    rows = max(1, chunk_bytes // (len(ref) * np.dtype(count_type).itemsize))
    for begin in range(0, len(todo), rows):
        chunk = gen[todo[begin : begin + rows]]
        differing = np.zeros((len(chunk), len(ref)), dtype=count_type)
        for cell in range(cells):
            differing += by_cell[cell] != chunk[:, cell, None]
        nearest[todo[begin : begin + rows]] = differing.min(axis=1)
    return NearestNeighbours(float(copies.mean()), float(nearest.mean() / cells))


def score_metrics(
    score: Score,
    *,
    first_downbeat: int = 0,
    steps_per_bar: int = STEPS_PER_BAR,
    steps_per_beat: int = STEPS_PER_BEAT,
) -> dict[str, float]:
    """Every single-score metric for a score whose voice 0 is the melody, in its own metre.

    Bars of ``steps_per_bar`` steps begin at ``first_downbeat``; steps before it (a pickup)
    and a final partial bar are left out. ``steps_per_beat`` is the beat TD is measured
    over: 4 sixteenths in simple metres, 6 (a dotted quarter) in 6/8 or 12/8.

    >>> from gan_music.pianoroll import Score
    >>> notes = [(0, 0, 8, 72), (0, 8, 8, 74), (1, 0, 16, 67), (2, 0, 16, 64), (3, 0, 16, 48)]
    >>> metrics = score_metrics(Score.from_notes(16, notes))
    >>> metrics["EB A"], metrics["QN S"], metrics["crossing"]
    (0.0, 1.0, 0.0)
    >>> waltz = Score.from_notes(28, [(v, 4, 24, p) for v, p in enumerate([72, 67, 64, 48])])
    >>> score_metrics(waltz, first_downbeat=4, steps_per_bar=12)["EB S"]  # two whole 3/4 bars
    0.0
    """
    if steps_per_bar <= 0 or steps_per_beat <= 0:
        msg = f"steps_per_bar and steps_per_beat must be positive, got {steps_per_bar}, {steps_per_beat}"
        raise ValueError(msg)
    start = first_downbeat % steps_per_bar
    bars = max(0, (score.n_steps - start) // steps_per_bar)
    whole = score.window(start, bars * steps_per_bar)
    pitch, onset = whole.pitch[None], whole.onset[None]
    return window_metrics(pitch, onset, steps_per_bar=steps_per_bar, steps_per_beat=steps_per_beat)


def window_metrics(
    pitch: ArrayLike,
    onset: ArrayLike,
    *,
    steps_per_bar: int = STEPS_PER_BAR,
    steps_per_beat: int = STEPS_PER_BEAT,
) -> dict[str, float]:
    """Every metric that needs only the windows themselves, as a flat ``name -> value`` dict.

    Each window starts on a bar line; bars last ``steps_per_bar`` steps and beats
    ``steps_per_beat``. Per-voice figures are named ``"EB S"``, ``"UPC A"``, ``"QN B"`` and so on.

    >>> import numpy as np
    >>> pitch = np.array([[72, 67, 64, 48]] * 16)[None]
    >>> sorted(window_metrics(pitch, np.zeros_like(pitch, dtype=bool)))[:6]
    ['EB A', 'EB B', 'EB S', 'EB T', 'PCS', 'QN A']
    """
    array = _as_batch(pitch)
    letters = (
        VOICE_LETTERS
        if array.shape[2] == len(VOICE_LETTERS)
        else tuple(str(voice) for voice in range(array.shape[2]))
    )
    result: dict[str, float] = {}
    for name, values in (
        ("EB", empty_bars(array, steps_per_bar=steps_per_bar)),
        ("UPC", used_pitch_classes(array, steps_per_bar=steps_per_bar)),
        ("QN", qualified_notes(array, onset)),
    ):
        result.update(
            {f"{name} {letter}": float(v) for letter, v in zip(letters, values, strict=True)}
        )
    result["TD"] = tonal_distance(array, steps_per_beat=steps_per_beat)
    result["PCS"] = pitch_consonance(array)
    result["scale"] = scale_consistency(array)
    result["parallels"] = parallel_rate(array)
    result["crossing"] = crossing_rate(array)
    return result
