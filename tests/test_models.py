"""The generator and discriminator: shapes, any length, inputs, and whole-network gradients."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from gan_music import nn
from gan_music.dataset import class_to_pitch, pitch_to_class
from gan_music.models import (
    HOLD_CLASS,
    N_CLASSES,
    N_OUTPUTS,
    Discriminator,
    Generator,
    ModelConfig,
    bar_features,
    generator_inputs,
    voice_inputs,
    voice_inputs_from_classes,
)

SMALL = ModelConfig(noise_dim=3, g_channels=6, g_dilations=(1, 2), d_channels=5, d_dilations=(1, 2))


def soprano_batch(batch: int, steps: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pitch = rng.integers(60, 80, (batch, steps)).astype(np.int16)
    onset = rng.random((batch, steps)) < 0.4
    return pitch, onset


def test_default_sizes_are_in_the_planned_range() -> None:
    config = ModelConfig()
    generator = Generator(config, rng=np.random.default_rng(0))
    discriminator = Discriminator(config, rng=np.random.default_rng(0))
    assert 100_000 <= generator.n_parameters() <= 300_000
    assert 100_000 <= discriminator.n_parameters() <= 300_000


@pytest.mark.parametrize("steps", [1, 7, 32, 200])
def test_networks_run_on_any_length(steps: int) -> None:
    config = ModelConfig()
    generator = Generator(config, rng=np.random.default_rng(0))
    discriminator = Discriminator(config, rng=np.random.default_rng(1))
    pitch, onset = soprano_batch(2, steps)
    x = generator_inputs(pitch, onset, np.array([0, 4]), np.zeros((2, config.noise_dim)))
    logits = generator(x)
    assert logits.shape == (2, steps, 3, N_OUTPUTS)
    assert logits.dtype == np.float32
    lower = voice_inputs_from_classes(
        logits[..., :N_CLASSES].argmax(-1), logits[..., HOLD_CLASS] < 0
    )
    voices = np.concatenate([voice_inputs(pitch, onset)[:, :, None], lower], axis=2)
    assert discriminator(voices).shape == (2,)


def test_generator_is_causal_only_within_its_receptive_field() -> None:
    """A change at one step reaches exactly 1 + 2 * sum(dilations) steps of output."""
    generator = Generator(SMALL, rng=np.random.default_rng(0))
    pitch, onset = soprano_batch(1, 40)
    noise = np.zeros((1, 3))
    before = generator(generator_inputs(pitch, onset, np.zeros(1, int), noise)).copy()
    pitch[0, 20] += 1
    after = generator(generator_inputs(pitch, onset, np.zeros(1, int), noise))
    changed = np.flatnonzero(np.any(before != after, axis=(0, 2, 3)))
    assert changed.min() == 20 - 3
    assert changed.max() == 20 + 3


def test_noise_changes_the_output() -> None:
    generator = Generator(ModelConfig(), rng=np.random.default_rng(0))
    pitch, onset = soprano_batch(1, 16)
    first = generator(generator_inputs(pitch, onset, np.zeros(1, int), np.zeros((1, 16)))).copy()
    second = generator(generator_inputs(pitch, onset, np.zeros(1, int), np.ones((1, 16))))
    assert not np.allclose(first, second)


def test_inputs_encode_soprano_onset_bar_and_noise() -> None:
    pitch = np.array([[72, -1, 36, 83]], dtype=np.int16)
    onset = np.array([[True, False, True, True]])
    x = generator_inputs(pitch, onset, np.array([15]), np.array([[0.5, -0.5]]))
    assert x.shape == (1, 4, N_CLASSES + 1 + 4 + 2)
    assert x[0, :, :N_CLASSES].argmax(-1).tolist() == [36, 48, 0, 47]
    assert x[0, :, N_CLASSES].tolist() == [1, 0, 1, 1]
    assert x[0, 1, N_CLASSES + 1 : N_CLASSES + 5].tolist() == [1, 1, 1, 0]  # the downbeat
    assert x[0, :, -2:].tolist() == [[0.5, -0.5]] * 4


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


def whole_network_gradient_check(module: nn.Module, x: np.ndarray, input_too: bool) -> None:
    rng = np.random.default_rng(3)
    out = module(x.copy())
    upstream = rng.standard_normal(out.shape)
    grad_x = np.array(module.backward(upstream))
    grads = {name: p.grad.copy() for name, p in module.named_parameters().items()}

    def objective() -> float:
        return float((module(x.copy()) * upstream).sum())

    checks = [(grads[n], p.data, n) for n, p in module.named_parameters().items()]
    if input_too:
        checks.append((grad_x, x, "input"))
    for analytic, array, name in checks:
        for index in rng.choice(array.size, size=min(6, array.size), replace=False):
            numeric = central_difference(objective, array, index)
            assert analytic.reshape(-1)[index] == pytest.approx(numeric, rel=1e-4, abs=1e-7), name


def test_generator_gradients_in_float64() -> None:
    generator = Generator(SMALL, rng=np.random.default_rng(0)).astype(np.float64)
    pitch, onset = soprano_batch(2, 9)
    x = generator_inputs(pitch, onset, np.zeros(2, int), np.ones((2, 3))).astype(np.float64)
    x += np.random.default_rng(1).standard_normal(x.shape) * 0.1
    whole_network_gradient_check(generator, x, input_too=True)


def test_discriminator_parameter_gradients_in_float64() -> None:
    """At one-hot inputs (what it always sees); parameters only, the interval layer is exact there."""
    discriminator = Discriminator(SMALL, rng=np.random.default_rng(0)).astype(np.float64)
    rng = np.random.default_rng(2)
    classes, onsets = rng.integers(0, N_CLASSES, (2, 9, 4)), rng.random((2, 9, 4)) < 0.5
    voices = voice_inputs_from_classes(classes, onsets).astype(np.float64)
    whole_network_gradient_check(discriminator, voices, input_too=False)


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
