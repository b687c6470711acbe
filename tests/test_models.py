"""The generator and discriminator: shapes, any length, what each step may see, gradients."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from gan_music import nn
from gan_music.dataset import class_to_pitch, pitch_to_class
from gan_music.models import (
    N_CLASSES,
    Discriminator,
    Generator,
    GeneratorInputs,
    ModelConfig,
    bar_features,
    melody_inputs,
    teacher_inputs,
    voice_inputs,
    voice_inputs_from_classes,
)
from gan_music.relations import ALTO, BASS, TENOR

SMALL = ModelConfig(
    g_channels=6,
    g_dilations=(1, 2),
    h_dilations=(1, 2),
    head_channels=5,
    d_channels=5,
    d_dilations=(1, 2),
)


def random_piece(batch: int, steps: int, seed: int = 0) -> GeneratorInputs:
    """A soprano and three lower voices of random pitches in their ranges, random onsets."""
    rng = np.random.default_rng(seed)
    soprano = rng.integers(60, 80, (batch, steps)).astype(np.int16)
    onset = rng.random((batch, steps)) < 0.4
    lower = np.stack(
        [rng.integers(low, high, (batch, steps)) for low, high in ((55, 72), (48, 67), (36, 60))],
        axis=-1,
    ).astype(np.int16)
    lower_onset = rng.random((batch, steps, 3)) < 0.4
    return teacher_inputs(soprano, onset, lower, lower_onset, np.zeros(batch, int))


def test_default_sizes_are_in_the_planned_range() -> None:
    config = ModelConfig()
    generator = Generator(config, rng=np.random.default_rng(0))
    discriminator = Discriminator(config, rng=np.random.default_rng(0))
    assert 300_000 <= generator.n_parameters() <= 700_000
    assert 100_000 <= discriminator.n_parameters() <= 300_000


@pytest.mark.parametrize("steps", [1, 7, 32, 200])
def test_networks_run_on_any_length(steps: int) -> None:
    config = ModelConfig()
    generator = Generator(config, rng=np.random.default_rng(0))
    discriminator = Discriminator(config, rng=np.random.default_rng(1))
    inputs = random_piece(2, steps)
    logits = generator(inputs)
    assert logits.shape == (2, steps, 3, 50)
    assert logits.dtype == np.float32
    melody = inputs.melody[..., : N_CLASSES + 1]  # the soprano's one-hot and onset: its view
    voices = np.concatenate([melody[:, :, None], inputs.voices], axis=2)
    assert discriminator(voices).shape == (2,)


def changed_steps(before: np.ndarray, after: np.ndarray) -> list[int]:
    steps: list[int] = np.flatnonzero(np.any(before != after, axis=(0, 2, 3))).tolist()
    return steps


def test_a_step_sees_the_melody_around_it_and_only_the_voices_before_it() -> None:
    """Melody changes reach back by the melody blocks' radius and forward by that plus the
    history's; a change to the alto (written last in a step) reaches only later steps."""
    generator = Generator(SMALL, rng=np.random.default_rng(0))
    inputs = random_piece(1, 40)
    before = generator(inputs).copy()
    melody = inputs.melody.copy()
    melody[0, 20, :N_CLASSES] = np.roll(melody[0, 20, :N_CLASSES], 1)
    after = generator(inputs._replace(melody=melody))
    assert changed_steps(before, after) == list(range(20 - 3, 20 + 3 + 3 + 1))
    voices = inputs.voices.copy()
    voices[0, 20, ALTO] = np.roll(voices[0, 20, ALTO], 1)
    after = generator(inputs._replace(voices=voices))
    assert changed_steps(before, after) == list(range(21, 21 + 3 + 1))


def test_within_a_step_the_bass_is_written_first_then_the_tenor_then_the_alto() -> None:
    """The heads read the voices written before them at the same step, and no others."""
    generator = Generator(replace(SMALL, relations=False), rng=np.random.default_rng(0))
    inputs = random_piece(1, 10)
    before = generator(inputs).copy()
    for voice, reached in ((BASS, [TENOR, ALTO]), (TENOR, [ALTO]), (ALTO, [])):
        voices = inputs.voices.copy()
        voices[0, 5, voice] = np.roll(voices[0, 5, voice], 3)
        after = generator(inputs._replace(voices=voices))
        assert np.flatnonzero(np.any(before[0, 5] != after[0, 5], axis=-1)).tolist() == sorted(
            reached
        )


def test_the_relation_tables_start_at_zero_and_add_to_the_scores() -> None:
    generator = Generator(SMALL, rng=np.random.default_rng(0))
    plain = Generator(replace(SMALL, relations=False), rng=np.random.default_rng(0))
    inputs = random_piece(2, 12)
    np.testing.assert_array_equal(generator(inputs), plain(inputs))
    assert generator.tables is not None
    generator.tables.table.data[: generator.tables.size] = 1.0
    bumped = generator(inputs) - plain(inputs)
    counts = (inputs.keys != generator.tables.zero).sum(axis=-2)
    np.testing.assert_allclose(bumped, counts, rtol=1e-6)


def test_melody_inputs_encode_soprano_onset_and_bar() -> None:
    pitch = np.array([[72, -1, 36, 83]], dtype=np.int16)
    onset = np.array([[True, False, True, True]])
    x = melody_inputs(pitch, onset, np.array([15]))
    assert x.shape == (1, 4, N_CLASSES + 1 + 4)
    assert x[0, :, :N_CLASSES].argmax(-1).tolist() == [36, 48, 0, 47]
    assert x[0, :, N_CLASSES].tolist() == [1, 0, 1, 1]
    assert x[0, 1, N_CLASSES + 1 : N_CLASSES + 5].tolist() == [1, 1, 1, 0]  # the downbeat


@pytest.mark.parametrize(
    ("steps_per_bar", "beat", "beats", "last"),
    [
        (8, 4, [0, 4], [4, 5, 6, 7]),  # 2/4
        (12, 6, [0, 6], [6, 7, 8, 9, 10, 11]),  # 6/8: two dotted quarters
        (24, 6, [0, 6, 12, 18], list(range(18, 24))),  # 12/8
    ],
)
def test_bar_features_in_simple_and_compound_metres(
    steps_per_bar: int, beat: int, beats: list[int], last: list[int]
) -> None:
    flags = bar_features(steps_per_bar, np.array([0]), steps_per_bar, beat)[0]
    assert np.flatnonzero(flags[:, 0]).tolist() == [0]
    assert np.flatnonzero(flags[:, 1]).tolist() == beats
    assert np.flatnonzero(flags[:, 3]).tolist() == last


def test_bar_features_in_four_four_are_what_the_model_trained_on() -> None:
    flags = bar_features(16, np.array([4]))[0]  # a window starting on beat 2
    position = (np.arange(16) + 4) % 16
    assert flags[:, 1].tolist() == (position % 4 == 0).tolist()
    assert flags[:, 3].tolist() == (position >= 12).tolist()


def test_bar_features_in_three_four() -> None:
    flags = bar_features(12, np.array([0]), steps_per_bar=12)[0]
    assert np.flatnonzero(flags[:, 0]).tolist() == [0]
    assert np.flatnonzero(flags[:, 1]).tolist() == [0, 4, 8]
    assert np.flatnonzero(flags[:, 3]).tolist() == [8, 9, 10, 11]


def test_classes_round_trip_and_range_check() -> None:
    pitch = np.array([36, 60, 83, -1])
    assert pitch_to_class(pitch).tolist() == [0, 24, 47, 48]
    assert class_to_pitch(pitch_to_class(pitch)).tolist() == pitch.tolist()
    with pytest.raises(ValueError, match=r"MIDI 36\.\.83"):
        pitch_to_class(np.array([84]))


def central_difference(objective: Callable[[], float], array: np.ndarray, index: int) -> float:
    """d objective / d array.flat[index] by central differences, restoring the entry after."""
    flat = array.reshape(-1)
    saved, eps = flat[index], 1e-6
    flat[index] = saved + eps
    up = objective()
    flat[index] = saved - eps
    down = objective()
    flat[index] = saved
    return (up - down) / (2 * eps)


def whole_network_gradient_check(
    module: nn.Module, x: Any, input_array: np.ndarray | None = None
) -> None:
    """Parameter gradients (and, if given, the gradient for ``input_array``, an array ``x``
    holds) of ``sum(upstream * module(x))`` against central differences."""
    rng = np.random.default_rng(3)
    out = module(x)
    upstream = rng.standard_normal(out.shape)
    grad_x = module.backward(upstream)
    grads = {name: p.grad.copy() for name, p in module.named_parameters().items()}

    def objective() -> float:
        return float((module(x) * upstream).sum())

    checks = [(grads[n], p.data, n) for n, p in module.named_parameters().items()]
    if input_array is not None:
        checks.append((np.array(grad_x), input_array, "input"))
    for analytic, array, name in checks:
        for index in rng.choice(array.size, size=min(6, array.size), replace=False):
            numeric = central_difference(objective, array, index)
            assert analytic.reshape(-1)[index] == pytest.approx(numeric, rel=1e-4, abs=1e-7), name


def test_generator_gradients_in_float64() -> None:
    """Every parameter (relation table included) and the melody input, at random tables."""
    generator = Generator(SMALL, rng=np.random.default_rng(0)).astype(np.float64)
    assert generator.tables is not None
    generator.tables.table.data[:-1] = np.random.default_rng(5).standard_normal(
        generator.tables.size
    )
    inputs = random_piece(2, 9)
    melody = (
        inputs.melody.astype(np.float64)
        + np.random.default_rng(1).standard_normal(inputs.melody.shape) * 0.1
    )
    whole_network_gradient_check(
        generator,
        inputs._replace(melody=melody, voices=inputs.voices.astype(np.float64)),
        input_array=melody,
    )


def test_discriminator_parameter_gradients_in_float64() -> None:
    """At one-hot inputs (what it always sees); parameters only, the interval layer is exact there."""
    discriminator = Discriminator(SMALL, rng=np.random.default_rng(0)).astype(np.float64)
    rng = np.random.default_rng(2)
    classes, onsets = rng.integers(0, N_CLASSES, (2, 9, 4)), rng.random((2, 9, 4)) < 0.5
    voices = voice_inputs_from_classes(classes, onsets).astype(np.float64)
    whole_network_gradient_check(discriminator, voices)


def test_the_discriminator_sees_re_strikes() -> None:
    """Two voices alike but for one re-struck note get different scores: onsets are inputs."""
    discriminator = Discriminator(ModelConfig(), rng=np.random.default_rng(0))
    pitch = np.full((1, 8, 4), 60)
    tied = np.zeros((1, 8, 4), bool)
    tied[:, 0] = True
    struck = tied.copy()
    struck[0, 4, 2] = True
    scores = discriminator(
        voice_inputs(np.concatenate([pitch, pitch]), np.concatenate([tied, struck]))
    )
    assert scores[0] != scores[1]


def test_discriminator_parameters_only_backward_matches_full_backward() -> None:
    discriminator = Discriminator(SMALL, rng=np.random.default_rng(0))
    rng = np.random.default_rng(2)
    x = voice_inputs_from_classes(
        rng.integers(0, N_CLASSES, (3, 8, 4)), rng.random((3, 8, 4)) < 0.5
    )
    discriminator(x)
    discriminator.backward(np.ones(3, np.float32))
    full = {n: p.grad.copy() for n, p in discriminator.named_parameters().items()}
    discriminator.zero_grad()
    discriminator(x)
    discriminator.backward_parameters_only(np.ones(3, np.float32))
    for name, parameter in discriminator.named_parameters().items():
        np.testing.assert_allclose(parameter.grad, full[name], rtol=1e-6, err_msg=name)


def test_config_json_round_trip() -> None:
    config = ModelConfig(g_dilations=(1, 3))
    assert ModelConfig.from_json(config.to_json()) == config
