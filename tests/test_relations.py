"""The relation keys: what each possible move would form with the notes already written."""

from __future__ import annotations

import numpy as np
import pytest

from gan_music.models import teacher_inputs
from gan_music.relations import (
    ALTO,
    BASS,
    HOLD_CLASS,
    REST_CLASS,
    SOPRANO,
    TENOR,
    WRITING_ORDER,
    Relations,
    beat_kinds,
    candidate_classes,
    previous_notes,
)

RELATIONS = Relations()


def random_context(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """Classes of (A, T, B, S) before and now, some rests, beat kinds and notes before."""
    before = rng.integers(10, 38, (n, 4))
    now = rng.integers(10, 38, (n, 4))
    before[rng.random((n, 4)) < 0.1] = REST_CLASS
    now[rng.random((n, 4)) < 0.1] = REST_CLASS
    note_before = np.where(rng.random(n) < 0.2, REST_CLASS, rng.integers(10, 38, n))
    return before, now, rng.integers(0, 3, n), note_before


@pytest.mark.parametrize("voice", WRITING_ORDER)
def test_keys_are_inside_the_table_and_rests_read_nothing(voice: int) -> None:
    before, now, beat, note_before = random_context(np.random.default_rng(0), 500)
    keys = RELATIONS.keys(voice, beat, before, now, note_before)
    assert keys.shape == (500, RELATIONS.slots[voice], 50)
    assert keys.min() >= 0
    assert keys.max() <= RELATIONS.zero
    assert (keys[:, :, REST_CLASS] == RELATIONS.zero).all()  # a rest forms no interval
    no_hold = before[:, voice] == REST_CLASS
    assert (keys[no_hold][:, :, HOLD_CLASS] == RELATIONS.zero).all()


@pytest.mark.parametrize("voice", WRITING_ORDER)
def test_keys_are_the_same_in_every_key_signature(voice: int) -> None:
    """Moving everything up a tone moves the keys with the candidate pitches, nothing else."""
    before, now, beat, note_before = random_context(np.random.default_rng(1), 300)
    keys = RELATIONS.keys(voice, beat, before, now, note_before)

    def up(classes: np.ndarray) -> np.ndarray:
        return np.where(classes == REST_CLASS, REST_CLASS, classes + 2)

    moved = RELATIONS.keys(voice, beat, up(before), up(now), up(note_before))
    np.testing.assert_array_equal(moved[:, :, 2:46], keys[:, :, 0:44])
    np.testing.assert_array_equal(
        moved[:, :, [REST_CLASS, HOLD_CLASS]], keys[:, :, [REST_CLASS, HOLD_CLASS]]
    )


def test_teacher_keys_are_the_keys_of_each_step_in_turn() -> None:
    """Training reads the same keys the decoder computes step by step."""
    rng = np.random.default_rng(2)
    soprano = rng.integers(60, 80, (2, 12)).astype(np.int16)
    lower = np.stack(
        [
            rng.integers(55, 70, (2, 12)),
            rng.integers(48, 64, (2, 12)),
            rng.integers(36, 55, (2, 12)),
        ],
        -1,
    )
    lower[0, 4, 1] = -1  # a rest in the tenor
    onset = rng.random((2, 12, 3)) < 0.5
    offset = np.array([0, 6])
    keys = teacher_inputs(soprano, onset[..., 0], lower.astype(np.int16), onset, offset).keys
    classes = np.concatenate([lower, soprano[..., None]], -1)
    classes = np.where(classes < 0, REST_CLASS, classes - 36)
    notes = previous_notes(classes[..., :3], onset)
    beat = beat_kinds((np.arange(12)[None] + offset[:, None]) % 16, 4)
    for t in range(12):
        before = classes[:, t - 1] if t else np.full((2, 4), REST_CLASS)
        note_before = notes[:, t - 1] if t else np.full((2, 3), REST_CLASS)
        for voice in WRITING_ORDER:
            step = RELATIONS.keys(voice, beat[:, t], before, classes[:, t], note_before[:, voice])
            np.testing.assert_array_equal(keys[:, t, voice, : step.shape[1]], step)
            assert (keys[:, t, voice, step.shape[1] :] == RELATIONS.zero).all()


def test_a_parallel_fifth_and_a_contrary_fifth_read_different_entries() -> None:
    """Bass C3 -> D3 under a tenor G3: to A3 is a parallel fifth, to ... the fifth by contrary motion
    (G3 -> A2 is not possible here, so compare with the same fifth reached by the bass staying)."""
    before = np.array([[REST_CLASS, 19, 12, 31]])  # tenor G3, bass C3, soprano G4
    moving = np.array([[REST_CLASS, REST_CLASS, 14, 33]])  # bass D3
    staying = np.array([[REST_CLASS, REST_CLASS, 12, 33]])  # bass holds C3
    beat, none = np.zeros(1, int), np.full(1, REST_CLASS)
    a3, g3 = 21, 19
    pair_to_bass = 1  # the tenor's rows: soprano, bass, melodic, chord
    parallel = RELATIONS.keys(TENOR, beat, before, moving, none)[0, pair_to_bass, a3]
    oblique = RELATIONS.keys(TENOR, beat, before, staying, none)[0, pair_to_bass, g3]
    assert parallel != oblique
    assert RELATIONS.zero not in (parallel, oblique)


def test_chord_keys_tell_root_position_from_inversion() -> None:
    """The alto completing C major over a bass C, and over a bass E, reads different entries."""
    none = np.full(1, REST_CLASS)
    before = np.full((1, 4), REST_CLASS)
    root = np.array([[REST_CLASS, 19, 12, 28]])  # tenor G3, bass C3, soprano E4
    first = np.array([[REST_CLASS, 19, 16, 36]])  # tenor G3, bass E3, soprano C5
    c4 = 24
    chord_row = RELATIONS.slots[ALTO] - 1
    a = RELATIONS.keys(ALTO, np.zeros(1, int), before, root, none)[0, chord_row, c4]
    b = RELATIONS.keys(ALTO, np.zeros(1, int), before, first, none)[0, chord_row, c4]
    assert a != b


def test_candidates_and_previous_notes() -> None:
    assert candidate_classes()[7, HOLD_CLASS] == 7
    assert candidate_classes()[REST_CLASS, 3] == 3
    classes = np.array([[0, 0, REST_CLASS, 2, 2, 4]])[..., None]
    onset = np.array([[1, 0, 0, 1, 1, 1]], bool)[..., None]
    assert previous_notes(classes, onset)[0, :, 0].tolist() == [
        REST_CLASS,
        REST_CLASS,
        REST_CLASS,
        0,
        2,
        2,
    ]


def test_the_layout_gives_each_voice_its_rows() -> None:
    assert RELATIONS.slots == {BASS: 2, TENOR: 4, ALTO: 5}
    assert SOPRANO == 3
    assert len(set(RELATIONS.offsets.values())) == len(RELATIONS.offsets)
