"""The decoder: step-by-step writing equals the teacher-forced network, draws follow its
softmax, the penalty removes exactly the parallels the metric counts, and REINFORCE's gradient."""

from __future__ import annotations

import numpy as np
import pytest

from gan_music import metrics, nn
from gan_music.dataset import class_to_pitch
from gan_music.decode import (
    NETWORK_ALONE,
    DecoderConfig,
    allowed_moves,
    crossing_moves,
    parallel_moves_by_step,
    parallels,
    policy_gradient,
    sample_voices,
)
from gan_music.models import Generator, ModelConfig, output_classes, teacher_inputs
from gan_music.nn import log_softmax
from gan_music.relations import ALTO, BASS, HOLD_CLASS, KNOWN, REST_CLASS, SOPRANO, TENOR

SMALL = ModelConfig(g_channels=8, g_dilations=(1, 2), h_dilations=(1, 2, 4), head_channels=8)


def lively_generator(seed: int = 0) -> Generator:
    """A small generator with random biases and relation tables, so its choices vary."""
    rng = np.random.default_rng(seed)
    generator = Generator(SMALL, rng=rng)
    for parameter in generator.parameters():
        if parameter.data.ndim == 1:
            parameter.data[:] = rng.standard_normal(parameter.data.shape)
    return generator


def melody(batch: int, steps: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    soprano = rng.integers(22, 40, (batch, steps))
    soprano[:, steps // 3 : steps // 3 + 2] = REST_CLASS  # the melody rests for two steps
    onset = rng.random((batch, steps)) < 0.3
    onset[:, 0] = True
    return soprano, onset


def teacher_logits(
    generator: Generator,
    soprano: np.ndarray,
    onset: np.ndarray,
    classes: np.ndarray,
    struck: np.ndarray,
    offset: np.ndarray,
) -> np.ndarray:
    inputs = teacher_inputs(class_to_pitch(soprano), onset, class_to_pitch(classes), struck, offset)
    return generator(inputs).astype(np.float64)


def masked(logits: np.ndarray, soprano: np.ndarray, classes: np.ndarray) -> np.ndarray:
    before = np.full_like(classes, REST_CLASS)
    before[:, 1:] = classes[:, :-1]
    silent = np.broadcast_to((soprano == REST_CLASS)[..., None], classes.shape)
    return np.where(allowed_moves(before, silent), logits, -np.inf)


def test_writing_step_by_step_is_the_teacher_forced_network() -> None:
    """At temperature 0 every move is the best of the network's scores for the finished piece."""
    generator = lively_generator()
    soprano, onset = melody(3, 30)
    offset = np.array([0, 4, 13])
    cold = DecoderConfig(temperature=0.0, parallel_penalty=0.0)
    classes, struck = sample_voices(
        generator, soprano, onset, offset, np.random.default_rng(0), cold
    )
    logits = masked(
        teacher_logits(generator, soprano, onset, classes, struck, offset), soprano, classes
    )
    moves = output_classes(class_to_pitch(classes), struck)
    np.testing.assert_array_equal(logits.argmax(-1), moves)


def test_the_melody_rests_alone_never() -> None:
    generator = lively_generator(1)
    soprano, onset = melody(2, 24, seed=1)
    classes, _ = sample_voices(
        generator, soprano, onset, np.zeros(2, int), np.random.default_rng(0)
    )
    silent = soprano == REST_CLASS
    assert (classes[silent] == REST_CLASS).all()
    assert (classes[~silent] != REST_CLASS).all()


def test_draws_follow_the_softmax_of_the_scores() -> None:
    """Two thousand one-step pieces: the bass's moves against softmax(scores / temperature)."""
    generator = lively_generator(2)
    soprano = np.full((2000, 1), 30)
    onset = np.ones((2000, 1), bool)
    config = DecoderConfig(temperature=1.5, parallel_penalty=0.0)
    classes, struck = sample_voices(
        generator, soprano, onset, np.zeros(2000, int), np.random.default_rng(3), config
    )
    logits = teacher_logits(
        generator, soprano[:1], onset[:1], classes[:1], struck[:1], np.zeros(1, int)
    )
    expected = np.exp(log_softmax(masked(logits, soprano[:1], classes[:1])[0, 0, 2] / 1.5))
    seen = np.bincount(classes[:, 0, 2], minlength=50) / 2000
    np.testing.assert_allclose(seen, expected, atol=0.035)
    assert np.abs(seen - expected).sum() < 0.25


def test_the_penalty_removes_the_parallels_the_metric_counts() -> None:
    generator = lively_generator(4)
    soprano, onset = melody(16, 48, seed=4)
    offset = np.zeros(16, int)

    def count(config: DecoderConfig) -> int:
        classes, _ = sample_voices(
            generator, soprano, onset, offset, np.random.default_rng(5), config
        )
        pitch = np.concatenate([class_to_pitch(soprano)[..., None], class_to_pitch(classes)], -1)
        return metrics.parallel_motion(pitch)[0]

    assert count(NETWORK_ALONE) >= 5
    assert count(DecoderConfig(parallel_penalty=1e6)) == 0


def test_parallels_are_exactly_the_metrics_parallels() -> None:
    """For random contexts, a move is flagged iff parallel_motion counts a parallel between
    the voice and one of the voices known when it is written."""
    rng = np.random.default_rng(6)
    before = rng.integers(10, 40, (400, 4))
    now = rng.integers(10, 40, (400, 4))
    before[rng.random((400, 4)) < 0.1] = REST_CLASS
    for voice in range(3):
        flagged = parallels(voice, before, now)
        for row in range(0, 400, 7):
            for move in (int(rng.integers(0, 48)), HOLD_CLASS, int(before[row, voice]) % 48):
                after = now[row].copy()
                after[voice] = before[row, voice] if move == HOLD_CLASS else move
                found = False
                for other in KNOWN[voice]:
                    pair = np.array(
                        [[before[row, voice], before[row, other]], [after[voice], after[other]]]
                    )
                    pitch = class_to_pitch(pair)[None]
                    found |= metrics.parallel_motion(pitch)[0] == 1
                assert flagged[row, move] == found, (voice, row, move)


def test_crossing_moves_are_the_crossings_the_metric_counts() -> None:
    """A move is flagged iff crossing_rate counts the step once the voice plays it, the voices
    written after it placed where they cross nothing (at the soprano's pitch)."""
    rng = np.random.default_rng(8)
    steps = 300
    soprano = rng.integers(20, 44, (1, steps))
    lower = np.sort(rng.integers(4, 44, (1, steps, 3)), axis=-1)[..., ::-1]  # alto >= tenor >= bass
    lower = np.minimum(lower, soprano[..., None])  # no known voice crosses another
    lower[rng.random((1, steps, 3)) < 0.05] = REST_CLASS
    flagged = crossing_moves(soprano, lower)
    written_after = {BASS: (TENOR, ALTO), TENOR: (ALTO,), ALTO: ()}
    checked = 0
    for t in range(steps):
        if soprano[0, t] == REST_CLASS or (lower[0, t] == REST_CLASS).any():
            continue  # the metric counts only steps where every voice sounds
        for voice, later in written_after.items():
            for move in range(48):
                chord = np.concatenate([soprano[0, t, None], lower[0, t]])  # S, A, T, B
                chord[[1 + other for other in later]] = soprano[0, t]
                chord[1 + voice] = move
                counted = metrics.crossing_rate(class_to_pitch(chord)[None, None]) == 1.0
                assert flagged[0, t, voice, move] == counted, (t, voice, move, chord)
                checked += 1
    assert checked > 10_000
    assert not flagged[..., REST_CLASS].any()  # a rest crosses nothing


def test_parallel_moves_by_step_reads_each_step_after_the_one_before() -> None:
    rng = np.random.default_rng(9)
    soprano = rng.integers(20, 44, (2, 40))
    lower = rng.integers(4, 44, (2, 40, 3))
    lower[rng.random((2, 40, 3)) < 0.1] = REST_CLASS
    flagged = parallel_moves_by_step(soprano, lower)
    assert flagged.any()
    now = np.concatenate([lower, soprano[..., None]], axis=-1)
    for row in range(2):
        for t in range(40):
            before = now[row, t - 1 : t] if t else np.full((1, 4), REST_CLASS)
            for voice in range(3):
                expected = parallels(voice, before, now[row, t : t + 1])[0]
                np.testing.assert_array_equal(flagged[row, t, voice], expected)


def test_allowed_moves() -> None:
    allowed = allowed_moves(np.array([5, REST_CLASS, 5]), np.array([False, False, True]))
    assert allowed[0].sum() == 49
    assert allowed[0, HOLD_CLASS]
    assert not allowed[0, REST_CLASS]
    assert allowed[1].sum() == 48
    assert not allowed[1, HOLD_CLASS]
    assert allowed[2].tolist() == [m == REST_CLASS for m in range(50)]
    assert SOPRANO == 3


@pytest.mark.parametrize("penalty", [0.0, 10.0])
def test_policy_gradient_is_the_gradient_of_the_advantage_weighted_log_likelihood(
    penalty: float,
) -> None:
    generator = lively_generator(7)
    soprano, onset = melody(3, 6, seed=7)
    config = DecoderConfig(temperature=0.8, parallel_penalty=penalty)
    classes, struck = sample_voices(
        generator, soprano, onset, np.zeros(3, int), np.random.default_rng(8), config
    )
    logits = np.random.default_rng(9).standard_normal((3, 6, 3, 50))
    reward = np.array([0.3, -1.0, 2.0])
    grad = policy_gradient(logits, soprano, classes, struck, reward, config)
    advantage = (reward - reward.mean()) / reward.std()
    moves = output_classes(class_to_pitch(classes), struck)
    now = np.concatenate([classes, soprano[..., None]], -1)
    before = np.full_like(now, REST_CLASS)
    before[:, 1:] = now[:, :-1]
    penalties = np.stack(
        [
            parallels(v, before.reshape(-1, 4), now.reshape(-1, 4)).reshape(3, 6, 50)
            for v in range(3)
        ],
        axis=2,
    )

    def loss(z: np.ndarray) -> float:
        scores = masked(z - penalty * penalties, soprano, classes) / 0.8
        log_q = np.take_along_axis(log_softmax(scores), moves[..., None].astype(np.intp), -1)[
            ..., 0
        ]
        return float(-(advantage[:, None, None] * log_q).sum() / log_q.size)

    rng = np.random.default_rng(10)
    for _ in range(12):
        index = tuple(int(rng.integers(0, n)) for n in logits.shape)
        if not np.isfinite(masked(logits, soprano, classes)[index]):
            continue
        up, down = logits.copy(), logits.copy()
        up[index] += 1e-6
        down[index] -= 1e-6
        assert grad[index] == pytest.approx((loss(up) - loss(down)) / 2e-6, rel=1e-3, abs=1e-7)


class HighAltoCritic(nn.Module):
    """A stand-in discriminator that scores a window by how high its alto sounds."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        classes = x[..., 1, :48].argmax(-1)  # the alto (voice 1 after the soprano)
        result: np.ndarray = classes.mean(axis=1)
        return result

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def test_drafts_keep_what_the_critic_prefers() -> None:
    generator = lively_generator(11)
    soprano, onset = melody(4, 64, seed=11)
    offset = np.zeros(4, int)

    def alto(config: DecoderConfig, critic: nn.Module | None) -> np.ndarray:
        classes, struck = sample_voices(
            generator,
            soprano,
            onset,
            offset,
            np.random.default_rng(12),
            config,
            critic=critic,  # type: ignore[arg-type]
        )
        assert classes.shape == (4, 64, 3)
        assert struck.shape == (4, 64, 3)
        silent = soprano == REST_CLASS
        assert (classes[silent] == REST_CLASS).all()
        assert (classes[~silent] != REST_CLASS).all()
        alto_line: np.ndarray = classes[..., 0][~silent]
        return alto_line

    plain = alto(DecoderConfig(), None)
    often = DecoderConfig(drafts=8, select_every=4, critic_steps=8)
    guided = alto(often, HighAltoCritic())
    assert guided.mean() > plain.mean() + 5
    np.testing.assert_array_equal(guided, alto(often, HighAltoCritic()))
    np.testing.assert_array_equal(alto(often, None), plain)  # no critic: one draft
    once = alto(DecoderConfig(drafts=8, select_every=0, critic_steps=0), HighAltoCritic())
    assert once.mean() < guided.mean()  # one choice at the end tilts less than sixteen
