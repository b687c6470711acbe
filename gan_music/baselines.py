"""Simple accompanists that put the model's evaluation figures in context.

Each has the same ``harmonise`` method as the trained model, so the evaluation treats them
alike: it takes a one-voice melody :class:`~gan_music.pianoroll.Score` and returns a four-voice
score (soprano, alto, tenor, bass) whose soprano is the melody, unchanged.

- :class:`ShuffledBaseline`: real Bach, but the accompaniment of *another* window. Right
  style, wrong harmony for this melody.
- :class:`RuleBaseline`: the melody moved down a fourth, an octave and two octaves. Perfectly
  consonant, and nothing but parallel fifths and octaves.
- :class:`NoiseBaseline`: a random pitch in each voice's range at every step.
- :class:`RealBach`: Bach's own accompaniment of a window it is given, looked up by its melody.

>>> from gan_music.pianoroll import Score
>>> melody = Score.from_notes(4, [(0, 0, 2, 72), (0, 2, 2, 74)], n_voices=1)
>>> RuleBaseline().harmonise(melody, seed=0).pitch[0].tolist()
[72, 67, 60, 48]
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gan_music.errors import GanMusicError
from gan_music.pianoroll import REST, STEPS_PER_BAR, Score

#: Ranges (lowest, highest MIDI) of the alto, tenor and bass in the Bach chorales.
VOICE_RANGES = ((53, 74), (48, 69), (36, 64))


class Accompanist(Protocol):
    """Anything that writes alto, tenor and bass under a melody: the model or a baseline."""

    def harmonise(
        self,
        melody: Score,
        *,
        seed: int,
        steps_per_bar: int = STEPS_PER_BAR,
        first_downbeat: int = 0,
    ) -> Score:
        """Return a four-voice score whose voice 0 is ``melody``."""
        ...


def check_melody(melody: Score) -> None:
    """Raise :class:`GanMusicError` unless ``melody`` is one voice at least one step long."""
    if melody.n_voices != 1:
        msg = f"the melody must be one voice, got {melody.n_voices}: pass only the soprano"
        raise GanMusicError(msg)
    if melody.n_steps == 0:
        msg = "the melody is empty: give it at least one note"
        raise GanMusicError(msg)


def _with_melody(melody: Score, pitch: NDArray[np.int16], onset: NDArray[np.bool_]) -> Score:
    return Score(np.hstack([melody.pitch, pitch]), np.hstack([melody.onset, onset]))


class RuleBaseline:
    """The melody copied a fourth, an octave and two octaves down (alto, tenor, bass).

    Rests and onsets follow the melody. A copy that would fall below MIDI 0 is raised by
    octaves until it fits.

    >>> from gan_music.pianoroll import Score
    >>> melody = Score.from_notes(2, [(0, 0, 1, 67)], n_voices=1)
    >>> RuleBaseline().harmonise(melody, seed=0).pitch.tolist()
    [[67, 62, 55, 43], [-1, -1, -1, -1]]
    """

    intervals = (5, 12, 24)

    def harmonise(
        self,
        melody: Score,
        *,
        seed: int,  # noqa: ARG002  (the rule has no randomness: any seed gives the same result)
        steps_per_bar: int = STEPS_PER_BAR,  # noqa: ARG002
        first_downbeat: int = 0,  # noqa: ARG002
    ) -> Score:
        """Return the melody over its three transposed copies."""
        check_melody(melody)
        soprano = melody.pitch.astype(np.int64)
        lower = soprano - np.array(self.intervals)
        lower = np.where(lower < 0, lower % 12, lower)
        pitch = np.where(soprano == REST, REST, lower).astype(np.int16)
        onset = np.repeat(melody.onset, len(self.intervals), axis=1)
        return _with_melody(melody, pitch, onset)


class NoiseBaseline:
    """A uniformly random pitch in each voice's range (:data:`VOICE_RANGES`), drawn every step.

    No rests. Two equal draws in a row make one held note, so a few notes last longer than a
    16th; the share of such notes is about one over the width of the range.

    >>> from gan_music.pianoroll import Score
    >>> melody = Score.from_notes(64, [(0, 0, 64, 72)], n_voices=1)
    >>> harmony = NoiseBaseline().harmonise(melody, seed=3)
    >>> [(int(harmony.pitch[:, v].min()) >= low, int(harmony.pitch[:, v].max()) <= high)
    ...  for v, (low, high) in enumerate(VOICE_RANGES, start=1)]
    [(True, True), (True, True), (True, True)]
    >>> harmony == NoiseBaseline().harmonise(melody, seed=3)
    True
    """

    def harmonise(
        self,
        melody: Score,
        *,
        seed: int,
        steps_per_bar: int = STEPS_PER_BAR,  # noqa: ARG002  (noise ignores the metre)
        first_downbeat: int = 0,  # noqa: ARG002
    ) -> Score:
        """Return the melody over three voices of random pitches."""
        check_melody(melody)
        rng = np.random.default_rng(seed)
        low = np.array([low for low, _ in VOICE_RANGES])
        high = np.array([high for _, high in VOICE_RANGES])
        pitch = rng.integers(low, high + 1, size=(melody.n_steps, len(VOICE_RANGES)))
        onset = np.zeros(pitch.shape, dtype=bool)
        return _with_melody(melody, pitch.astype(np.int16), onset)


def _as_windows(pitch: ArrayLike, onset: ArrayLike) -> tuple[NDArray[np.int16], NDArray[np.bool_]]:
    pitch_array = np.asarray(pitch, dtype=np.int16)
    onset_array = np.asarray(onset, dtype=bool)
    if pitch_array.ndim != 3 or pitch_array.shape[2] != 4 or pitch_array.shape != onset_array.shape:
        msg = (
            "windows must be pitch and onset arrays of shape (windows, steps, 4); "
            f"got {pitch_array.shape} and {onset_array.shape}"
        )
        raise ValueError(msg)
    if not len(pitch_array):
        msg = "the pool of real windows is empty: give at least one window"
        raise ValueError(msg)
    return pitch_array, onset_array


class ShuffledBaseline:
    """Real Bach accompaniment taken from a random *other* window of a pool of real windows.

    ``pitch`` and ``onset`` are ``(windows, steps, 4)`` arrays (soprano first) whose step 0
    is a downbeat. A window whose soprano equals the melody is never chosen. For a melody
    longer than a window, randomly chosen windows are joined; the material is shifted so that
    its bar lines fall on the melody's (``first_downbeat``, ``steps_per_bar``).

    >>> import numpy as np
    >>> from gan_music.pianoroll import Score
    >>> pool = np.array([[[72, 64, 60, 48]] * 4, [[74, 65, 62, 50]] * 4])
    >>> shuffled = ShuffledBaseline(pool, np.zeros(pool.shape, bool))
    >>> melody = Score(pool[0, :, :1], np.zeros((4, 1), bool))
    >>> shuffled.harmonise(melody, seed=0).pitch[0].tolist()  # never its own window
    [72, 65, 62, 50]
    """

    def __init__(self, pitch: ArrayLike, onset: ArrayLike) -> None:
        self.pitch, self.onset = _as_windows(pitch, onset)
        self._melodies = np.ascontiguousarray(self.pitch[:, :, 0])

    def _candidates(self, melody: Score) -> NDArray[np.intp]:
        others = np.arange(len(self.pitch))
        if melody.n_steps == self.pitch.shape[1]:
            same = (self._melodies == melody.pitch[:, 0]).all(axis=1)
            others = others[~same]
        if not len(others):
            msg = "every window of the pool has this melody: give a pool with other melodies"
            raise GanMusicError(msg)
        return others

    def harmonise(
        self,
        melody: Score,
        *,
        seed: int,
        steps_per_bar: int = STEPS_PER_BAR,
        first_downbeat: int = 0,
    ) -> Score:
        """Return the melody over the lower voices of randomly chosen other windows."""
        check_melody(melody)
        rng = np.random.default_rng(seed)
        shift = (-first_downbeat) % steps_per_bar
        needed = shift + melody.n_steps
        chosen = rng.choice(self._candidates(melody), size=-(-needed // self.pitch.shape[1]))
        pitch = np.concatenate(list(self.pitch[chosen, :, 1:]))[shift:needed]
        onset = np.concatenate(list(self.onset[chosen, :, 1:]))[shift:needed]
        part = Score(pitch, onset).window(0, melody.n_steps)  # re-strike a note cut by the shift
        return _with_melody(melody, part.pitch, part.onset)


class RealBach:
    """Bach's own accompaniment for melodies taken from a pool of real windows.

    The melody is looked up by its soprano pitches and onsets. When several windows share a
    melody (some chorales harmonise the same tune), the seed picks one of them.

    >>> import numpy as np
    >>> from gan_music.pianoroll import Score
    >>> pool = np.array([[[72, 64, 60, 48]] * 4, [[74, 65, 62, 50]] * 4])
    >>> bach = RealBach(pool, np.zeros(pool.shape, bool))
    >>> melody = Score(pool[1, :, :1], np.zeros((4, 1), bool))
    >>> bach.harmonise(melody, seed=0).pitch[0].tolist()
    [74, 65, 62, 50]
    """

    def __init__(self, pitch: ArrayLike, onset: ArrayLike) -> None:
        self.pitch, self.onset = _as_windows(pitch, onset)
        self._index: dict[bytes, list[int]] = {}
        for i in range(len(self.pitch)):
            soprano = Score(self.pitch[i, :, :1], self.onset[i, :, :1])
            self._index.setdefault(self._key(soprano), []).append(i)

    @staticmethod
    def _key(melody: Score) -> bytes:
        return melody.pitch.tobytes() + np.packbits(melody.onset).tobytes()

    def harmonise(
        self,
        melody: Score,
        *,
        seed: int,
        steps_per_bar: int = STEPS_PER_BAR,  # noqa: ARG002  (the pool's windows fix the metre)
        first_downbeat: int = 0,  # noqa: ARG002
    ) -> Score:
        """Return the real window whose soprano is ``melody``."""
        check_melody(melody)
        matches = self._index.get(self._key(melody))
        if not matches:
            msg = "this melody is not in RealBach's windows: give it melodies taken from them"
            raise GanMusicError(msg)
        i = matches[int(np.random.default_rng(seed).integers(len(matches)))]
        return Score(self.pitch[i], self.onset[i])
