"""The one representation every part of gan_music shares: a four-voice score on a 16th-note grid.

A chorale holds at most one note per voice at a time, so a score is two small arrays
of shape ``(steps, voices)``: the MIDI pitch sounding in each voice at each step (``REST``
where it is silent) and whether a note *starts* there. Keeping onsets matters: a plain
on/off piano roll would merge two repeated notes into one long one.

>>> import numpy as np
>>> score = Score.from_notes(n_steps=8, notes=[(0, 0, 4, 72), (0, 4, 4, 72), (3, 0, 8, 48)])
>>> score.pitch[:, 0].tolist()
[72, 72, 72, 72, 72, 72, 72, 72]
>>> score.onset[:, 0].nonzero()[0].tolist()
[0, 4]
>>> score.to_notes()
[(0, 0, 4, 72), (0, 4, 4, 72), (3, 0, 8, 48)]
>>> score.to_pianoroll().shape
(8, 48, 4)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

VOICES = ("soprano", "alto", "tenor", "bass")
LOWEST_PITCH = 36  #: MIDI C2, the bottom of the pitch axis
N_PITCHES = 48  #: MIDI 36..83: four whole octaves, so a chroma is a clean 4 x 12 reshape
REST = -1  #: the pitch value of a silent step
STEPS_PER_BEAT = 4  #: sixteenth notes
STEPS_PER_BAR = 16  #: 4/4 time

Note = tuple[int, int, int, int]  #: (voice, start step, duration in steps, MIDI pitch)


@dataclass(frozen=True, eq=False)
class Score:
    """Pitches and onsets of several voices on a 16th-note grid.

    ``pitch`` is an int16 array ``(steps, voices)`` of MIDI pitches, ``REST`` (-1) for
    silence; ``onset`` is a bool array of the same shape, true where a note starts.
    """

    pitch: NDArray[np.int16]
    onset: NDArray[np.bool_]

    def __post_init__(self) -> None:
        pitch = np.asarray(self.pitch)
        onset = np.asarray(self.onset)
        if pitch.ndim != 2 or pitch.shape != onset.shape:
            msg = (
                "pitch and onset must both have shape (steps, voices); "
                f"got {pitch.shape} and {onset.shape}"
            )
            raise ValueError(msg)
        if pitch.size and (pitch.min() < REST or pitch.max() > 127):
            msg = "pitch values must be MIDI numbers 0..127 or REST (-1)"
            raise ValueError(msg)
        sounding = pitch != REST
        if np.any(onset & ~sounding):
            msg = "an onset was marked on a silent step"
            raise ValueError(msg)
        starts = sounding.copy()
        starts[1:] &= (pitch[1:] != pitch[:-1]) | ~sounding[:-1]
        onset = onset | starts  # a change of pitch is always a new note
        object.__setattr__(self, "pitch", pitch.astype(np.int16, copy=False))
        object.__setattr__(self, "onset", onset.astype(bool, copy=False))

    @classmethod
    def from_notes(cls, n_steps: int, notes: Iterable[Note], n_voices: int = 4) -> Score:
        """Build a score from ``(voice, start, duration, pitch)`` tuples."""
        pitch = np.full((n_steps, n_voices), REST, dtype=np.int16)
        onset = np.zeros((n_steps, n_voices), dtype=bool)
        for voice, start, duration, midi in notes:
            if duration <= 0 or start < 0 or start + duration > n_steps:
                msg = f"note {(voice, start, duration, midi)} does not fit in {n_steps} steps"
                raise ValueError(msg)
            pitch[start : start + duration, voice] = midi
            onset[start, voice] = True
        return cls(pitch, onset)

    @property
    def n_steps(self) -> int:
        """Number of 16th-note steps."""
        return int(self.pitch.shape[0])

    @property
    def n_voices(self) -> int:
        """Number of voices."""
        return int(self.pitch.shape[1])

    def to_notes(self) -> list[Note]:
        """The notes as ``(voice, start, duration, pitch)`` tuples, sorted by voice then start."""
        notes: list[Note] = []
        for voice in range(self.n_voices):
            starts = [*np.flatnonzero(self.onset[:, voice]).tolist(), self.n_steps]
            sounding = self.pitch[:, voice] != REST
            for start, nxt in itertools.pairwise(starts):
                held = sounding[start:nxt]
                duration = len(held) if held.all() else int(np.argmin(held))
                notes.append((voice, start, duration, int(self.pitch[start, voice])))
        return notes

    def to_pianoroll(
        self, lowest: int = LOWEST_PITCH, n_pitches: int = N_PITCHES
    ) -> NDArray[np.bool_]:
        """A ``(steps, n_pitches, voices)`` boolean piano roll; pitches outside the axis are dropped."""
        roll = np.zeros((self.n_steps, n_pitches, self.n_voices), dtype=bool)
        steps, voices = np.nonzero(self.pitch != REST)
        index = self.pitch[steps, voices].astype(np.intp) - lowest
        inside = (index >= 0) & (index < n_pitches)
        roll[steps[inside], index[inside], voices[inside]] = True
        return roll

    def voices(self, *indices: int) -> Score:
        """A score of the chosen voices only, in the order given.

        >>> score = Score.from_notes(4, [(0, 0, 4, 72), (1, 0, 4, 65), (2, 0, 4, 57)], n_voices=3)
        >>> score.voices(1, 2).pitch[0].tolist()
        [65, 57]
        """
        if not indices or not all(-self.n_voices <= i < self.n_voices for i in indices):
            msg = f"choose voices among 0..{self.n_voices - 1}, got {list(indices)}"
            raise ValueError(msg)
        chosen = list(indices)
        return Score(self.pitch[:, chosen], self.onset[:, chosen])

    def transpose(self, semitones: int) -> Score:
        """The same score moved by ``semitones`` (rests stay rests)."""
        moved = np.where(self.pitch == REST, REST, self.pitch + semitones)
        return Score(moved.astype(np.int16), self.onset.copy())

    def window(self, start: int, length: int) -> Score:
        """Steps ``start .. start+length``; a note cut at the left edge starts again there."""
        pitch = self.pitch[start : start + length].copy()
        onset = self.onset[start : start + length].copy()
        if len(pitch):
            onset[0] = pitch[0] != REST
        return Score(pitch, onset)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Score):
            return NotImplemented
        return np.array_equal(self.pitch, other.pitch) and np.array_equal(self.onset, other.onset)

    __hash__ = None  # type: ignore[assignment]  # mutable arrays inside: not hashable


def beat_steps(steps_per_bar: int) -> int:
    """The beat a bar of ``steps_per_bar`` sixteenths implies when no time signature says more.

    Bars that are a whole number of quarters (2/4, 3/4, 4/4, and 6/8 read as 3/4) beat in
    quarters; 12/8 (24 steps) too, as 6/4 and 12/8 share that length. A bar that is whole
    dotted quarters but not whole quarters (9/8: 18 steps) beats in dotted quarters. Pass
    ``steps_per_beat`` (``gan_music.midi.Melody.steps_per_beat`` reads it from the time signature) to be exact.

    >>> beat_steps(16), beat_steps(12), beat_steps(18), beat_steps(6)
    (4, 4, 6, 6)
    """
    if steps_per_bar % STEPS_PER_BEAT and steps_per_bar % 6 == 0:
        return 6
    return STEPS_PER_BEAT
