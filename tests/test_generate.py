"""Harmonising melodies: the melody kept exactly, any length, register and metre, seeds."""

from __future__ import annotations

import numpy as np
import pytest

from gan_music import metrics
from gan_music.dataset import load_chorales, split_chorales
from gan_music.errors import GanMusicError
from gan_music.generate import Harmoniser, fold_into_range, load_model, octave_shift
from gan_music.pianoroll import REST, Score


def split_melody(n_steps: int = 64) -> Score:
    chorale = split_chorales(load_chorales())["test"][0]
    start = chorale.first_downbeat
    return Score(
        chorale.score.pitch[start : start + n_steps, :1],
        chorale.score.onset[start : start + n_steps, :1],
    )


def soprano_of(harmony: Score) -> Score:
    return Score(harmony.pitch[:, :1], harmony.onset[:, :1])


def test_shipped_model_harmonises_a_split_melody() -> None:
    melody = split_melody()
    model = load_model()
    assert load_model() is model  # cached
    first = model.harmonise(melody, seed=1)
    assert first.n_voices == 4
    assert first.n_steps == melody.n_steps
    assert soprano_of(first) == melody
    assert (first.pitch[:, 1:] != REST).all()
    assert model.harmonise(melody, seed=1) == first
    second = model.harmonise(melody, seed=2)
    assert not np.array_equal(first.pitch[:, 1:], second.pitch[:, 1:])
    lengths, _ = metrics.note_lengths(first.pitch[None, :, 1:], first.onset[None, :, 1:])
    assert np.median(lengths) >= 4  # notes, not a flicker of 16ths


@pytest.mark.parametrize("n_steps", [1, 3, 31, 257])
def test_any_length(n_steps: int) -> None:
    melody = Score(np.full((n_steps, 1), 67, np.int16), np.eye(n_steps, 1, dtype=bool))
    harmony = load_model().harmonise(melody, seed=0, first_downbeat=1)
    assert harmony.n_steps == n_steps
    assert soprano_of(harmony) == melody


@pytest.mark.parametrize("octaves", [-3, -1, 2])
def test_any_register_is_moved_by_octaves_and_back(octaves: int) -> None:
    melody = split_melody(32)
    moved = melody.transpose(12 * octaves)
    harmony = load_model().harmonise(moved, seed=3)
    assert soprano_of(harmony) == moved
    same = load_model().harmonise(melody, seed=3)
    np.testing.assert_array_equal(harmony.pitch[:, 1:], same.pitch[:, 1:] + 12 * octaves)


def test_extreme_pitches_stay_valid_midi() -> None:
    pitch = np.array([[0], [0], [127], [127], [60], [60]], np.int16)
    melody = Score(pitch, np.ones_like(pitch, dtype=bool))
    harmony = load_model().harmonise(melody, seed=0)
    assert soprano_of(harmony) == melody
    assert harmony.pitch.min() >= 0
    assert harmony.pitch.max() <= 127


def test_rests_in_the_melody() -> None:
    silent = Score(np.full((8, 1), REST, np.int16), np.zeros((8, 1), bool))
    assert (load_model().harmonise(silent, seed=0).pitch == REST).all()
    pitch = np.array([72] * 8 + [REST] * 4 + [71] * 4, np.int16)[:, None]
    harmony = load_model().harmonise(Score(pitch, np.zeros_like(pitch, dtype=bool)), seed=0)
    assert (harmony.pitch[8:12, 1:] == REST).all()
    assert (harmony.pitch[:8, 1:] != REST).all()


def test_three_four_with_a_pickup() -> None:
    melody = split_melody(52)
    harmony = load_model().harmonise(melody, seed=0, steps_per_bar=12, first_downbeat=4)
    assert soprano_of(harmony) == melody


@pytest.mark.parametrize(
    ("steps_per_bar", "steps_per_beat"), [(12, 6), (24, 6), (8, None), (12, None)]
)
def test_compound_and_simple_metres(steps_per_bar: int, steps_per_beat: int | None) -> None:
    melody = split_melody(4 * steps_per_bar)
    model = load_model()
    harmony = model.harmonise(
        melody, seed=0, steps_per_bar=steps_per_bar, first_downbeat=0, steps_per_beat=steps_per_beat
    )
    assert soprano_of(harmony) == melody


def test_the_beat_changes_what_the_network_hears() -> None:
    melody = split_melody(48)
    model = load_model()
    simple = model.harmonise(melody, seed=0, steps_per_bar=12, steps_per_beat=4)
    compound = model.harmonise(melody, seed=0, steps_per_bar=12, steps_per_beat=6)
    assert not (simple.pitch == compound.pitch).all()


def test_the_network_alone_skips_the_decoder() -> None:
    chorale = split_chorales(load_chorales())["test"][0]
    melody = Score(chorale.score.pitch[:, :1], chorale.score.onset[:, :1])
    model = load_model()
    alone = model.network_alone().harmonise(melody, seed=0, first_downbeat=chorale.first_downbeat)
    decoded = model.harmonise(melody, seed=0, first_downbeat=chorale.first_downbeat)
    assert soprano_of(alone) == melody
    assert alone.n_voices == 4
    assert alone.n_steps == decoded.n_steps
    assert model.network_alone().decoder.parallel_penalty == 0.0
    assert model.network_alone().decoder.temperature == model.decoder.temperature


def test_bad_melodies_are_refused() -> None:
    model = load_model()
    with pytest.raises(GanMusicError, match="one voice"):
        model.harmonise(Score(np.full((4, 2), 60, np.int16), np.zeros((4, 2), bool)))
    with pytest.raises(GanMusicError, match="empty"):
        model.harmonise(Score(np.zeros((0, 1), np.int16), np.zeros((0, 1), bool)))


def test_octave_shift_and_folding() -> None:
    assert octave_shift(np.array([69, 71])) == 0
    assert octave_shift(np.array([45, 47, REST])) == 24
    assert octave_shift(np.array([REST])) == 0
    assert fold_into_range(np.array([30, 36, 83, 90, REST])).tolist() == [42, 36, 83, 78, REST]


def test_harmoniser_repr_names_the_size() -> None:
    assert "parameters" in repr(load_model())
    assert isinstance(load_model(), Harmoniser)


def test_long_pieces_run_in_overlapping_chunks_with_the_same_result() -> None:
    model = load_model()
    melody = split_melody(300)
    assert melody.n_steps > 2 * 64  # three chunks
    pitch, onset = melody.pitch[:, 0].astype(np.int64), melody.onset[:, 0]
    offset = np.array([13])
    whole = model.melody_features(pitch, onset, offset, 16, 4)
    model.chunk_steps = 64
    try:
        chunked = model.melody_features(pitch, onset, offset, 16, 4)
    finally:
        model.chunk_steps = 4096
    np.testing.assert_allclose(chunked, whole, rtol=1e-4, atol=1e-4)


def test_temperature_scales_the_draws() -> None:
    """0 takes the most likely move at every step, whatever the seed; bad values are refused."""
    model, melody = load_model(), split_melody()
    cold = [model.harmonise(melody, seed=s, temperature=0.0) for s in (1, 2)]
    assert cold[0] == cold[1]
    assert model.harmonise(melody, seed=1, temperature=1.0) == model.harmonise(melody, seed=1)
    hot = model.harmonise(melody, seed=1, temperature=3.0)
    assert not np.array_equal(hot.pitch, cold[0].pitch)
    for bad in (-0.1, float("nan"), 11.0, True):
        with pytest.raises(GanMusicError, match="temperature must be a number from 0 to 10"):
            model.harmonise(melody, seed=1, temperature=bad)
