"""Metrics against exact anchor values and hand-built scores whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from gan_music import metrics
from gan_music.pianoroll import REST, Score

PC = {"C#": 1, "E": 4, "F#": 6, "G": 7, "A": 9}


def _chroma(*classes: int) -> NDArray[np.float64]:
    chroma: NDArray[np.float64] = np.eye(12)[list(classes)].sum(axis=0)
    return chroma


def _major(root: int) -> NDArray[np.float64]:
    return _chroma(root, (root + 4) % 12, (root + 7) % 12)


def _minor(root: int) -> NDArray[np.float64]:
    return _chroma(root, (root + 3) % 12, (root + 7) % 12)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        (_chroma(0), _chroma(0), 0.0),
        (_chroma(0), _chroma(PC["G"]), 1.7372),
        (_chroma(0), _chroma(PC["E"]), 1.9365),
        (_chroma(0), _chroma(PC["C#"]), 2.5460),
        (_chroma(0), _chroma(PC["F#"]), 2.8284),
        (_major(0), _chroma(0), 1.0293),
        (_major(0), _minor(PC["A"]), 0.7993),
        (_major(0), _major(PC["F#"]), 1.9700),
    ],
)
def test_tonal_distance_anchor_values(
    first: NDArray[np.float64], second: NDArray[np.float64], expected: float
) -> None:
    assert round(float(metrics.chroma_distance(first, second)), 4) == expected
    assert round(float(metrics.chroma_distance(second, first)), 4) == expected


def test_tonal_centroid_ignores_the_scale_of_the_chroma() -> None:
    triad = _major(0)
    assert np.allclose(metrics.tonal_centroid(triad), metrics.tonal_centroid(5 * triad))


def _four_voices(*columns: list[int]) -> NDArray[np.int64]:
    """One window from per-voice pitch lists (soprano first)."""
    window: NDArray[np.int64] = np.array(columns).T[None]
    return window


def test_tonal_distance_on_windows_matches_the_anchor_and_skips_silent_beats() -> None:
    # Beat 1: melody C against G in all three lower voices (C-G, 1.7372).
    # Beat 2: melody silent, so skipped however dissonant the rest is.
    # Beat 3: melody C against a C major triad (1.0293).  Beat 4: accompaniment silent.
    soprano = [72] * 4 + [REST] * 4 + [72] * 4 + [72] * 4
    alto = [67] * 4 + [61] * 4 + [64] * 4 + [REST] * 4
    tenor = [55] * 4 + [66] * 4 + [60] * 4 + [REST] * 4
    bass = [43] * 4 + [37] * 4 + [43] * 4 + [REST] * 4
    result = metrics.tonal_distance(_four_voices(soprano, alto, tenor, bass))
    assert result == pytest.approx((1.7372 + 1.0293) / 2, abs=1e-4)


def test_tonal_distance_weighs_chroma_by_sounding_steps() -> None:
    # Accompaniment: C for three steps, G for one: chroma (3/4 C, 1/4 G), not (1/2, 1/2).
    window = _four_voices([72] * 4, [60, 60, 60, 67], [48] * 4, [36] * 4)
    three_to_one = (np.eye(12)[0] * 11 + np.eye(12)[7]) / 12
    expected = float(metrics.chroma_distance(np.eye(12)[0], three_to_one))
    assert metrics.tonal_distance(window) == pytest.approx(expected)


def test_tonal_distance_of_silence_is_nan() -> None:
    assert math.isnan(metrics.tonal_distance(np.full((1, 8, 4), REST)))


def test_all_rest_bar_is_empty() -> None:
    pitch = np.full((1, 32, 4), REST)
    pitch[0, :16, 0] = 60  # soprano plays bar 1 only
    pitch[0, 31, 3] = 36  # bass plays one 16th at the very end of bar 2
    assert metrics.empty_bars(pitch).tolist() == [0.5, 1.0, 1.0, 0.5]


def test_empty_bars_ignore_a_partial_final_bar() -> None:
    pitch = np.full((1, 20, 1), REST)
    pitch[0, 16:, 0] = 60
    assert metrics.empty_bars(pitch).tolist() == [1.0]


def test_used_pitch_classes_per_bar() -> None:
    bar_one = [60, 60, 72, 72, 64, 64, 67, 67] * 2  # C, C (octave up), E, G: 3 classes
    bar_two = [REST] * 16  # an empty bar uses no class
    bar_three = [61] * 16
    pitch = np.array(bar_one + bar_two + bar_three).reshape(1, 48, 1)
    assert metrics.used_pitch_classes(pitch).tolist() == [pytest.approx(4 / 3)]


def test_qualified_notes_count_repeated_notes_separately() -> None:
    soprano = Score.from_notes(8, [(0, 0, 1, 72), (0, 1, 1, 72), (0, 2, 2, 72), (0, 4, 4, 74)], 1)
    assert metrics.qualified_notes(soprano.pitch[None], soprano.onset[None]).tolist() == [0.5]


def test_qualified_notes_per_voice_and_nan_for_a_silent_voice() -> None:
    score = Score.from_notes(4, [(0, 0, 4, 72), (1, 0, 1, 60), (1, 1, 3, 62)], 3)
    result = metrics.qualified_notes(score.pitch[None], score.onset[None])
    assert result[:2].tolist() == [1.0, 0.5]
    assert math.isnan(result[2])


def test_note_lengths_ignore_onsets_marked_on_rests_and_split_pitch_changes() -> None:
    pitch = np.array([60, 60, REST, 62, 64, 64]).reshape(1, 6, 1)
    onset = np.array([0, 0, 1, 0, 0, 0], dtype=bool).reshape(1, 6, 1)
    lengths, voices = metrics.note_lengths(pitch, onset)
    assert lengths.tolist() == [2, 1, 2]
    assert voices.tolist() == [0, 0, 0]


@st.composite
def _scores(draw: st.DrawFn) -> Score:
    steps = draw(st.integers(1, 24))
    voices = draw(st.integers(1, 4))
    pitch = np.array(
        draw(
            st.lists(
                st.sampled_from([REST, 60, 62]), min_size=steps * voices, max_size=steps * voices
            )
        )
    ).reshape(steps, voices)
    onset = np.array(
        draw(st.lists(st.booleans(), min_size=steps * voices, max_size=steps * voices))
    ).reshape(steps, voices)
    return Score(pitch.astype(np.int16), onset & (pitch != REST))


@settings(max_examples=60, deadline=None)
@given(_scores())
def test_note_lengths_agree_with_the_score_reading_of_notes(score: Score) -> None:
    lengths, voices = metrics.note_lengths(score.pitch[None], score.onset[None])
    notes = score.to_notes()
    assert lengths.tolist() == [duration for _, _, duration, _ in notes]
    assert voices.tolist() == [voice for voice, _, _, _ in notes]


def test_pitch_consonance_scores_each_sounding_pair() -> None:
    # step 1: octave (+1), fourth (0), tritone (-1); step 2: alto a major sixth ABOVE the
    # melody (|interval| 9, +1), tenor silent (skipped), bass two octaves below (+1).
    window = _four_voices([72, 60], [60, 69], [67, 61], [66, 36])
    window[0, 1, 2] = REST
    assert metrics.pitch_consonance(window) == pytest.approx((1 + 0 - 1 + 1 + 1) / 5)


def test_pitch_consonance_needs_a_sounding_melody() -> None:
    window = _four_voices([REST, REST], [60, 60], [55, 55], [48, 48])
    assert math.isnan(metrics.pitch_consonance(window))


@pytest.mark.parametrize(
    ("melody", "expected"),
    [
        ([60, 62, 64, 65, 67, 69, 71, 72], 1.0),  # C major
        ([57, 59, 60, 62, 64, 65, 68], 6 / 7),  # A harmonic minor: no single scale holds all seven
        (list(range(60, 72)), 7 / 12),  # the chromatic scale
    ],
)
def test_scale_consistency(melody: list[int], expected: float) -> None:
    pitch = np.array(melody).reshape(1, -1, 1)
    assert metrics.scale_consistency(pitch) == pytest.approx(expected)


def test_scale_consistency_weighs_by_duration_and_averages_windows() -> None:
    # C held for 14 steps, then C# and D: 14 + 1 of 16 steps fit C major (or A minor)
    held = np.array([60] * 14 + [61, 62]).reshape(1, 16, 1)
    scale = np.array([60, 62, 64, 65] * 4).reshape(1, 16, 1)  # all in C major
    silent = np.full((1, 16, 1), REST)  # a silent window is left out of the mean
    pitch = np.concatenate([held, scale, silent])
    assert metrics.scale_consistency(pitch) == pytest.approx((15 / 16 + 1.0) / 2)


def test_scale_consistency_pools_the_voices_of_a_window() -> None:
    # Each voice alone fits a scale, together (C, C#, D sounding equally long) two thirds do.
    pitch = np.array([[60, 61, 62]] * 8)[None]
    assert metrics.scale_consistency(pitch) == pytest.approx(2 / 3)


def test_parallels_of_the_rule_baseline_are_five_pairs_of_six() -> None:
    soprano = np.array([72, 74, 76, 76, 77])  # the repeated E moves nothing
    window = np.stack([soprano, soprano - 5, soprano - 12, soprano - 24], axis=-1)[None]
    parallels, both = metrics.parallel_motion(window)
    assert (parallels, both) == (5 * 3, 6 * 3)
    assert metrics.parallel_rate(window) == pytest.approx(5 / 6)


@pytest.mark.parametrize(
    ("upper", "lower", "parallels", "both"),
    [
        ([67, 69], [60, 62], 1, 1),  # parallel fifths
        ([67, 81], [60, 62], 1, 1),  # fifth to twelfth, same direction: still counted
        ([72, 74], [60, 62], 1, 1),  # parallel octaves
        ([60, 62], [60, 62], 1, 1),  # parallel unisons
        ([72, 67], [60, 67], 0, 1),  # octave to unison in contrary motion
        ([67, 62], [60, 67], 0, 1),  # fifth to fifth in contrary motion (a crossing)
        ([64, 69], [60, 62], 0, 1),  # third to fifth: a hidden fifth, not parallel
        ([67, 69], [60, 60], 0, 0),  # only one voice moves
        ([67, REST, 69], [60, REST, 62], 0, 0),  # a rest between is not a change
        ([67, 67, 69], [60, 62, 62], 0, 0),  # they move at different steps
    ],
)
def test_parallel_motion_cases(
    upper: list[int], lower: list[int], parallels: int, both: int
) -> None:
    window = np.array([upper, lower]).T[None]
    assert metrics.parallel_motion(window) == (parallels, both)


def test_parallel_rate_without_motion_is_nan() -> None:
    assert math.isnan(metrics.parallel_rate(np.full((1, 4, 4), 60)))


def test_crossing_rate_counts_only_steps_where_all_voices_sound() -> None:
    window = _four_voices(
        [72, 72, 72, 72, 72],
        [67, 74, 67, 72, REST],  # step 2: alto above soprano; step 4: unison is no crossing
        [64, 64, 69, 64, 80],  # step 3: tenor above alto; step 5: alto silent, not counted
        [48, 48, 48, 48, 48],
    )
    assert metrics.crossing_rate(window) == pytest.approx(2 / 4)


def test_crossing_of_bass_above_tenor() -> None:
    window = _four_voices([72], [67], [50], [52])
    assert metrics.crossing_rate(window) == 1.0


def test_diversity_counts_differing_cells() -> None:
    first = np.full((2, 4, 3), 60)
    second = first.copy()
    second[1, 2, 0] = 62
    second[0, 0, 2] = REST
    assert metrics.diversity(first, second) == pytest.approx(2 / 24)
    with pytest.raises(ValueError, match="same shape"):
        metrics.diversity(first, second[:1])


def test_nearest_neighbours_find_copies_and_distances() -> None:
    rng = np.random.default_rng(1)
    training = rng.integers(48, 72, size=(50, 8, 3))
    copy = training[7].copy()
    near = training[3].copy()
    near[0, 0] += 1
    near[5, 2] += 1
    result = metrics.nearest_neighbours(np.stack([copy, near]), training)
    assert result.copies == 0.5
    assert result.distance == pytest.approx((0 + 2 / 24) / 2)


def test_nearest_neighbours_chunking_matches_brute_force() -> None:
    rng = np.random.default_rng(2)
    training = rng.integers(60, 63, size=(40, 4, 2))
    generated = rng.integers(60, 63, size=(9, 4, 2))
    brute = (generated[:, None] != training[None]).reshape(9, 40, -1).sum(-1).min(1).mean() / 8
    for chunk_bytes in (1, 100, 1 << 20):
        result = metrics.nearest_neighbours(generated, training, chunk_bytes=chunk_bytes)
        assert result.distance == pytest.approx(brute)


def test_nearest_neighbours_refuse_windows_of_different_size() -> None:
    with pytest.raises(ValueError, match="differ in size"):
        metrics.nearest_neighbours(np.zeros((1, 4, 3)), np.zeros((1, 8, 3)))


def test_batches_must_be_three_dimensional() -> None:
    with pytest.raises(ValueError, match=r"\(windows, steps, voices\)"):
        metrics.empty_bars(np.zeros((16, 4)))


def test_score_metrics_use_the_melody_s_metre() -> None:
    # Two bars of 3/4 after a quarter-note pickup; the alto rests for the whole second bar.
    notes = [(0, 0, 28, 72), (1, 4, 12, 64), (2, 0, 28, 60), (3, 0, 28, 48)]
    score = Score.from_notes(28, notes)
    waltz = metrics.score_metrics(score, first_downbeat=4, steps_per_bar=12)
    assert waltz["EB A"] == 0.5  # one of two 3/4 bars is empty
    as_four_four = metrics.score_metrics(score, first_downbeat=4)
    assert as_four_four["EB A"] == 0.0  # one 16-step bar, in which the alto does play
    jig = metrics.window_metrics(score.pitch[None, 4:], score.onset[None, 4:], steps_per_bar=12)
    assert jig["EB A"] == waltz["EB A"]
    with pytest.raises(ValueError, match="must be positive"):
        metrics.score_metrics(score, steps_per_bar=0)


def test_score_metrics_leave_out_the_pickup() -> None:
    # A one-beat pickup in which the alto crosses above the soprano, then one clean bar.
    notes = [
        (0, 0, 4, 67), (1, 0, 4, 72), (2, 0, 4, 60), (3, 0, 4, 48),
        (0, 4, 16, 72), (1, 4, 16, 64), (2, 4, 16, 60), (3, 4, 16, 48),
    ]  # fmt: skip
    score = Score.from_notes(20, notes)
    assert metrics.crossing_rate(score.pitch[None]) == pytest.approx(4 / 20)
    result = metrics.score_metrics(score, first_downbeat=4)
    assert result["crossing"] == 0.0
    assert result["PCS"] == 1.0
    assert result["UPC S"] == 1.0
    assert result["QN A"] == 1.0
    two_c_one_e = (2 * np.eye(12)[0] + np.eye(12)[4]) / 3
    assert result["TD"] == pytest.approx(float(metrics.chroma_distance(np.eye(12)[0], two_c_one_e)))


def test_window_metrics_name_every_voice() -> None:
    window = np.array([[72, 64, 60, 48]] * 16)[None]
    result = metrics.window_metrics(window, np.zeros_like(window, dtype=bool))
    for name in ("EB", "UPC", "QN"):
        assert [result[f"{name} {v}"] for v in "SATB"] == ([0.0] * 4 if name == "EB" else [1.0] * 4)
    assert {"TD", "PCS", "scale", "parallels", "crossing"} <= set(result)


def test_note_length_shares_and_repeats_read_onsets() -> None:
    pitch = np.full((1, 8, 2), 60)
    onset = np.zeros((1, 8, 2), bool)
    onset[0, [0, 2, 4, 6], 1] = True  # voice 1: four re-struck eighths; voice 0: one long note
    shares = metrics.note_length_shares(pitch, onset)
    assert shares[0].tolist() == [0, 0, 0, 0, 0, 1, 0, 0]  # 8 steps
    assert shares[1].tolist() == [0, 1, 0, 0, 0, 0, 0, 0]  # four of 2 steps
    assert metrics.repeated_notes(pitch, onset).tolist() == [0.0, 0.75]
    silent = metrics.note_length_shares(np.full((1, 4, 1), REST), np.zeros((1, 4, 1), bool))
    assert np.isnan(silent).all()
