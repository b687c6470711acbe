"""Harmonising melodies: the melody kept exactly, any length and register, seeds, and the decoder."""

from __future__ import annotations

import numpy as np
import pytest

from gan_music import metrics
from gan_music.dataset import load_chorales, split_chorales
from gan_music.decode import DecoderConfig, NoteScores, beam_search, best_lines
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
    assert lengths.min() >= 2  # eighth-note slots: no flicker


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
    assert not (alone.pitch == decoded.pitch).all()
    # The penalties are the decoder's: it removes every parallel the network alone writes.
    assert metrics.parallel_rate(decoded.pitch[None]) <= metrics.parallel_rate(alone.pitch[None])


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


def plain_logits(n_steps: int, hold: float = 4.0) -> np.ndarray:
    """Every pitch equally likely to be struck, and (by default) a strong wish to hold after step 0."""
    logits = np.zeros((n_steps, 3, 50))
    logits[1:, :, 49] = hold
    logits[:, :, 48] = -9.0  # no rests
    return logits


def strike(
    logits: np.ndarray, steps: slice | list[int], voice: int, pitch: int, value: float
) -> None:
    logits[steps, voice, pitch - 36] = value


def scores_of(logits: np.ndarray) -> NoteScores:
    return NoteScores.from_logits(logits)


COLD = DecoderConfig(temperature=0.0)


def test_decoder_avoids_parallels_the_model_prefers() -> None:
    """Per-voice choice gives parallel octaves between soprano and bass; the search does not."""
    melody = np.array([72, 72, 74, 74])  # C5 then D5
    logits = plain_logits(4)
    strike(logits, [0], 0, 67, 6.0)  # alto G4 and tenor G3, held throughout
    strike(logits, [0], 1, 55, 6.0)
    strike(logits, [0], 2, 48, 6.0)  # bass C3, then at step 2 D3 (octaves with the melody)
    strike(logits, [2], 2, 50, 9.0)
    strike(logits, [2], 2, 43, 8.0)  # second choice: G2
    logits[2, 2, 49] = 0.0  # the bass wants to move at step 2
    plain = DecoderConfig(temperature=0.0, parallel_penalty=0.0)
    rng = np.random.default_rng(0)
    naive, _ = beam_search(scores_of(logits), melody, rng, plain)
    assert naive[:, 2].tolist() == [48, 48, 50, 50]
    assert metrics.parallel_rate(np.column_stack([melody, naive])[None]) > 0
    chosen, _ = beam_search(scores_of(logits), melody, rng, COLD)
    assert chosen[:, 2].tolist() == [48, 48, 43, 43]
    assert metrics.parallel_rate(np.column_stack([melody, chosen])[None]) == 0


def test_decoder_avoids_crossing_the_melody() -> None:
    melody = np.array([60, 60])
    logits = plain_logits(2)
    strike(logits, [0], 0, 64, 6.0)  # alto E4 would sit above the C4 melody
    strike(logits, [0], 0, 55, 5.0)  # G3 is the next best
    out, _ = beam_search(scores_of(logits), melody, np.random.default_rng(0), COLD)
    assert out[:, 0].tolist() == [55, 55]


def test_holds_and_strikes_decide_note_lengths_and_re_strikes() -> None:
    """A pitch is held or struck again as the model says; 16th notes are possible."""
    melody = np.full(8, 72)
    logits = plain_logits(8)
    strike(logits, [0, 4], 0, 67, 9.0)  # alto G4 struck at 0 and again at 4
    logits[4, 0, 49] = 0.0
    strike(logits, [0], 1, 60, 9.0)  # tenor C4 held throughout
    strike(logits, [0], 2, 48, 9.0)  # bass C3, a 16th D3 at step 4, E3 from step 5
    strike(logits, [4], 2, 50, 9.0)
    strike(logits, [5], 2, 52, 9.0)
    logits[[4, 5], 2, 49] = 0.0
    for pitch, onset in (
        beam_search(scores_of(logits), melody, np.random.default_rng(0), COLD),
        best_lines(scores_of(logits)),
    ):
        assert pitch[:, 0].tolist() == [67] * 8
        assert onset[:, 0].nonzero()[0].tolist() == [0, 4]
        assert pitch[:, 1].tolist() == [60] * 8
        assert onset[:, 1].nonzero()[0].tolist() == [0]
        assert pitch[:, 2].tolist() == [48, 48, 48, 48, 50, 52, 52, 52]
        assert onset[:, 2].nonzero()[0].tolist() == [0, 4, 5]


def test_the_network_alone_finds_the_most_likely_line() -> None:
    """best_lines against brute force over every line of a tiny problem (4 steps)."""
    rng = np.random.default_rng(3)
    logits = np.full((4, 3, 50), -30.0)
    logits[:, :, [10, 11, 48, 49]] = rng.standard_normal((4, 3, 4)) * 2  # 2 pitches, rest, hold
    scores = scores_of(logits)
    pitch, onset = best_lines(scores)
    for voice in range(3):
        best, best_line = -np.inf, None
        for line in np.ndindex(4, 4, 4, 4):
            choice = np.array([10, 11, 48, 49])[list(line)]
            if choice[0] == 49:
                continue  # nothing to hold at the first step
            total, sounding = 0.0, list[int]()
            for t, c in enumerate(choice):
                if c == 49:
                    if sounding[-1] == 48:
                        break  # a rest is never held
                    total += scores.hold[t, voice]
                    sounding.append(sounding[-1])
                else:
                    total += scores.strike[t, voice, c]
                    sounding.append(int(c))
            else:
                if total > best:
                    best, best_line = total, np.array(sounding)
        assert best_line is not None
        expected = np.where(best_line == 48, REST, best_line + 36)
        assert pitch[:, voice].tolist() == expected.tolist()
        assert not onset[pitch[:, voice] == REST, voice].any()


def rule_penalty(lines: np.ndarray, melody: np.ndarray, config: DecoderConfig) -> float:
    """The decoder's rules, one step and one pair at a time, for a whole ``(steps, 3)`` line."""
    four = np.column_stack([melody, lines]).tolist()  # soprano, alto, tenor, bass
    penalty = 0.0
    for t, (s, a, tenor, b) in enumerate(four):
        penalty += config.crossing_penalty * ((a > s) + (tenor > a) + (b > tenor))
        penalty += config.spacing_penalty * ((s - a > 12) + (a - tenor > 12))
        if t == 0:
            continue
        before, now = four[t - 1], four[t]
        for upper in range(4):
            for lower in range(upper + 1, 4):
                u0, l0, u1, l1 = before[upper], before[lower], now[upper], now[lower]
                same_way = u0 != u1 and l0 != l1 and (u1 > u0) == (l1 > l0)
                i0, i1 = abs(u0 - l0) % 12, abs(u1 - l1) % 12
                if same_way and i0 == i1 and i0 in (0, 7):
                    penalty += config.parallel_penalty
    return penalty


@pytest.mark.parametrize("seed", range(12))
def test_a_beam_wide_enough_finds_the_best_line_of_brute_force(seed: int) -> None:
    """beam_search against every joint line of a tiny problem, scored with the rules above."""
    rng = np.random.default_rng(seed)
    n_steps = 3
    # penalties on the scale of the log-probabilities, so that the rules trade off with them
    config = DecoderConfig(
        temperature=0.0, candidates=2, beam_width=10**6,
        parallel_penalty=3.0, crossing_penalty=2.0, spacing_penalty=1.0,
    )  # fmt: skip
    logits = np.full((n_steps, 3, 50), -30.0)
    root = int(rng.integers(64, 70))
    for voice, below in enumerate([0, 7, 19]):  # fifths and octaves apart, one step to move
        home = root - below
        allowed = [home, home + 2, *rng.integers(home - 9, home + 9, 2)]
        logits[:, voice, np.array(allowed) - 36] = rng.standard_normal((n_steps, 4)) * 2
        logits[[0, 2], voice, home - 36] += 2.0  # each voice leans to the others' motion:
        logits[1, voice, home + 2 - 36] += 2.0  # parallels, where nothing penalises them
    logits[:, :, 49] = rng.standard_normal((n_steps, 3)) * 2
    # the melody moves with them on even seeds, freely on odd ones
    melody = root + 12 + (np.array([0, 2, 0]) if seed % 2 == 0 else rng.choice([-2, 0, 2, 5], 3))
    scores = scores_of(logits)
    top = np.argsort(-scores.strike[:, :, :48], axis=-1)[:, :, :2]  # the two candidates
    best, best_line = -np.inf, None
    for choice in np.ndindex(*(3,) * (n_steps * 3)):
        picks = np.array(choice).reshape(n_steps, 3)  # 0, 1: strike a candidate; 2: hold
        if (picks[0] == 2).any():
            continue  # nothing to hold at the first step
        pitch = np.zeros((n_steps, 3), int)
        total = 0.0
        for t in range(n_steps):
            for voice in range(3):
                if picks[t, voice] == 2:
                    pitch[t, voice] = pitch[t - 1, voice]
                    total += scores.hold[t, voice]
                else:
                    c = top[t, voice, picks[t, voice]]
                    pitch[t, voice] = c + 36
                    total += scores.strike[t, voice, c]
        total -= rule_penalty(pitch, melody, config)
        if total > best:
            best, best_line = total, (pitch, picks != 2)
    assert best_line is not None
    pitch, onset = beam_search(scores, melody, np.random.default_rng(0), config)
    assert pitch.tolist() == best_line[0].tolist()
    assert onset.tolist() == best_line[1].tolist()


def test_temperature_gives_different_but_reproducible_choices() -> None:
    logits = plain_logits(16, hold=0.0)
    melody = np.full(16, 72)
    runs = [beam_search(scores_of(logits), melody, np.random.default_rng(s))[0] for s in (0, 0, 1)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_melody_rests_silence_every_voice() -> None:
    melody = np.array([72, 72, REST, REST, 74, 74])
    pitch, onset = beam_search(scores_of(plain_logits(6)), melody, np.random.default_rng(0))
    assert (pitch[2:4] == REST).all()
    assert not onset[2:4].any()
    assert (pitch[[0, 1, 4, 5]] != REST).all()
    assert onset[4].all()  # after a rest there is nothing to hold: every voice strikes


def test_harmoniser_repr_names_the_size() -> None:
    assert "parameters" in repr(load_model())
    assert isinstance(load_model(), Harmoniser)


def test_long_pieces_run_in_overlapping_chunks_with_the_same_result() -> None:
    model = load_model()
    melody = split_melody(300)
    assert melody.n_steps > 2 * 64  # three chunks
    pitch, onset = melody.pitch[:, 0].astype(np.int64), melody.onset[:, 0]
    whole = model.note_scores(pitch, onset, rng=np.random.default_rng(0), first_downbeat=3)
    model.chunk_steps = 64
    try:
        chunked = model.note_scores(pitch, onset, rng=np.random.default_rng(0), first_downbeat=3)
    finally:
        model.chunk_steps = 4096
    for name in ("strike", "hold"):
        np.testing.assert_allclose(
            getattr(chunked, name), getattr(whole, name), rtol=1e-4, atol=1e-4
        )


def test_temperature_is_the_decoders_noise() -> None:
    """0 takes the best-scoring harmony for the seed's noise vector; bad values are refused."""
    model, melody = load_model(), split_melody()
    cold = [model.harmonise(melody, seed=s, temperature=0.0) for s in (1, 1)]
    assert cold[0] == cold[1]
    assert model.harmonise(melody, seed=1, temperature=0.5) == model.harmonise(melody, seed=1)
    hot = model.harmonise(melody, seed=1, temperature=3.0)
    assert not np.array_equal(hot.pitch, cold[0].pitch)
    for bad in (-0.1, float("nan"), 11.0, True):
        with pytest.raises(GanMusicError, match="temperature must be a number from 0 to 10"):
            model.harmonise(melody, seed=1, temperature=bad)
