"""Baseline accompanists: each keeps the melody and behaves the way its figures are read."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from gan_music import metrics
from gan_music.baselines import (
    VOICE_RANGES,
    Accompanist,
    NoiseBaseline,
    RealBach,
    RuleBaseline,
    ShuffledBaseline,
)
from gan_music.errors import GanMusicError
from gan_music.pianoroll import REST, Score

MELODY = Score.from_notes(
    32, [(0, 0, 4, 72), (0, 4, 4, 72), (0, 8, 8, 74), (0, 20, 12, 76)], n_voices=1
)


def _pool(n: int = 6, steps: int = 32) -> tuple[NDArray[np.int16], NDArray[np.bool_]]:
    """Distinct real-looking windows: window i is a held chord moved up i semitones."""
    chord = np.array([72, 67, 64, 48])
    pitch = np.stack([np.tile(chord + i, (steps, 1)) for i in range(n)]).astype(np.int16)
    onset = np.zeros(pitch.shape, dtype=bool)
    onset[:, ::4] = True  # quarter notes, so repeated notes are visible in the onsets
    return pitch, onset


def _accompanists() -> list[Accompanist]:
    return [RuleBaseline(), NoiseBaseline(), ShuffledBaseline(*_pool())]


@pytest.mark.parametrize("accompanist", _accompanists(), ids=lambda a: type(a).__name__)
def test_melody_is_kept_exactly_in_four_voices(accompanist: Accompanist) -> None:
    harmony = accompanist.harmonise(MELODY, seed=5)
    assert harmony.n_voices == 4
    assert harmony.n_steps == MELODY.n_steps
    assert np.array_equal(harmony.pitch[:, :1], MELODY.pitch)
    assert np.array_equal(harmony.onset[:, :1], MELODY.onset)


@pytest.mark.parametrize("accompanist", _accompanists(), ids=lambda a: type(a).__name__)
def test_same_seed_same_result(accompanist: Accompanist) -> None:
    assert accompanist.harmonise(MELODY, seed=9) == accompanist.harmonise(MELODY, seed=9)


@pytest.mark.parametrize("accompanist", _accompanists(), ids=lambda a: type(a).__name__)
def test_polyphonic_input_is_refused(accompanist: Accompanist) -> None:
    two_voices = Score.from_notes(4, [(0, 0, 4, 72), (1, 0, 4, 60)], n_voices=2)
    with pytest.raises(GanMusicError, match="one voice"):
        accompanist.harmonise(two_voices, seed=0)


def test_rule_moves_the_melody_down_and_keeps_its_rests_and_repeats() -> None:
    harmony = RuleBaseline().harmonise(MELODY, seed=0)
    sounding = MELODY.pitch[:, 0] != REST
    assert np.array_equal(harmony.pitch[sounding, 1], MELODY.pitch[sounding, 0] - 5)
    assert np.array_equal(harmony.pitch[sounding, 3], MELODY.pitch[sounding, 0] - 24)
    assert (harmony.pitch[~sounding] == REST).all()
    assert np.array_equal(harmony.onset[:, 2], MELODY.onset[:, 0])  # 72, 72 stays two notes
    assert metrics.parallel_rate(harmony.pitch[None]) == pytest.approx(5 / 6)


def test_rule_keeps_very_low_melodies_in_midi_range() -> None:
    low = Score.from_notes(1, [(0, 0, 1, 14)], n_voices=1)
    assert RuleBaseline().harmonise(low, seed=0).pitch[0].tolist() == [14, 9, 2, 2]


def test_noise_stays_in_each_voice_range_and_changes_with_the_seed() -> None:
    long_melody = Score.from_notes(512, [(0, 0, 512, 72)], n_voices=1)
    first = NoiseBaseline().harmonise(long_melody, seed=1)
    second = NoiseBaseline().harmonise(long_melody, seed=2)
    for voice, (low, high) in enumerate(VOICE_RANGES, start=1):
        assert first.pitch[:, voice].min() == low  # 512 draws reach both ends of the range
        assert first.pitch[:, voice].max() == high
    assert metrics.diversity(first.pitch[:, 1:], second.pitch[:, 1:]) > 0.9
    qn = metrics.qualified_notes(first.pitch[None], first.onset[None])[1:]
    assert (qn < 0.1).all()


def test_shuffled_never_returns_the_melody_own_window() -> None:
    pitch, onset = _pool()
    shuffled = ShuffledBaseline(pitch, onset)
    own = Score(pitch[2, :, :1], onset[2, :, :1])
    lowers = {int(shuffled.harmonise(own, seed=s).pitch[0, 1]) for s in range(60)}
    assert lowers == {67 + i for i in range(6) if i != 2}


def test_shuffled_aligns_bar_lines_with_a_pickup_and_joins_windows() -> None:
    pitch, onset = _pool(n=3, steps=16)
    pitch[:, 8:, 1:] -= 1  # the second half of every window bar is lower: marks the phase
    shuffled = ShuffledBaseline(pitch, onset)
    melody = Score.from_notes(40, [(0, 0, 40, 79)], n_voices=1)
    harmony = shuffled.harmonise(melody, seed=4, first_downbeat=4)
    # Bar lines fall at melody steps 4, 20 and 36: undo the marking by phase in the bar, and
    # each stretch between bar lines must then be one untouched window.
    lowered = ((np.arange(40) - 4) % 16) >= 8
    restored = harmony.pitch[:, 1] + lowered
    for begin, end in ((0, 4), (4, 20), (20, 36), (36, 40)):
        assert len(set(restored[begin:end].tolist())) == 1
        assert restored[begin] in (67, 68, 69)
    assert harmony.onset[0, 1:].all()  # the note cut by the shift is struck again


def test_shuffled_needs_another_melody() -> None:
    pitch, onset = _pool(n=1)
    shuffled = ShuffledBaseline(pitch, onset)
    with pytest.raises(GanMusicError, match="every window"):
        shuffled.harmonise(Score(pitch[0, :, :1], onset[0, :, :1]), seed=0)


def test_pool_shape_is_checked() -> None:
    pitch, onset = _pool()
    with pytest.raises(ValueError, match=r"\(windows, steps, 4\)"):
        ShuffledBaseline(pitch[..., :3], onset[..., :3])
    with pytest.raises(ValueError, match="empty"):
        RealBach(pitch[:0], onset[:0])


def test_real_bach_returns_the_true_window() -> None:
    pitch, onset = _pool()
    bach = RealBach(pitch, onset)
    for i in range(len(pitch)):
        harmony = bach.harmonise(Score(pitch[i, :, :1], onset[i, :, :1]), seed=0)
        assert harmony == Score(pitch[i], onset[i])


def test_real_bach_refuses_an_unknown_melody() -> None:
    with pytest.raises(GanMusicError, match="not in RealBach"):
        RealBach(*_pool()).harmonise(MELODY, seed=0)
