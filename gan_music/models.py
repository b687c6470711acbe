"""The two networks: a generator that writes alto, tenor and bass under a soprano, and a critic.

Both are fully convolutional over time (channels last, ``(batch, steps, channels)``), so
they run on a 2-bar training window and on a whole piece alike.

**Generator.** Input per step: the soprano as a 49-class one-hot (48 pitches from MIDI 36,
then rest), its onset flag, four bar-position flags in the melody's metre (downbeat, beat,
eighth, last beat of the bar; a beat is a quarter in simple metres, a dotted quarter in
compound ones) and a noise vector drawn once per piece and repeated at every step. A 1x1
convolution lifts that to ``channels``; residual blocks of dilated size-3 convolutions
(``x + leaky_relu(conv(x))``) widen the view to ``1 + 2 * sum(dilations)`` steps; a last
1x1 convolution gives ``3 x 50`` logits per step, one distribution per lower voice over
what it does at that step: **strike** one of 48 pitches (a note starts), **rest**, or
**hold** the note it is playing. Striking the pitch a voice already holds re-strikes it, and
a note can be as short as one 16th. The soprano is never generated: it is an input only.

**Discriminator.** Input: all four voices as ``(batch, steps, 4, 50)``: per voice a one-hot
of what sounds and its onset flag (generated voices are straight-through samples from
:class:`~gan_music.nn.notes.StraightThroughNotes`), flattened to 200 channels and joined by
the 72 voice-pair interval features of :class:`~gan_music.nn.intervals.VoicePairIntervals`;
three dilated size-3 convolutions with leaky ReLUs, the mean over time, one linear unit:
a logit saying "real". It sees the soprano too, so it judges the harmony under that melody.

>>> import numpy as np
>>> config = ModelConfig()
>>> gen = Generator(config, rng=np.random.default_rng(0))
>>> soprano = np.full((2, 32), 69, np.int16)
>>> onset = np.zeros((2, 32), bool); onset[:, 0] = True
>>> x = generator_inputs(soprano, onset, np.zeros(2, int), np.zeros((2, config.noise_dim)))
>>> gen(x).shape
(2, 32, 3, 50)
>>> disc = Discriminator(config, rng=np.random.default_rng(1))
>>> disc(np.zeros((2, 32, 4, 50), np.float32)).shape
(2,)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gan_music import nn
from gan_music.dataset import one_hot, pitch_to_class
from gan_music.nn.intervals import VoicePairIntervals
from gan_music.nn.module import Array
from gan_music.pianoroll import N_PITCHES, STEPS_PER_BAR, STEPS_PER_BEAT

N_CLASSES = N_PITCHES + 1  #: 48 pitches then rest
REST_CLASS = N_PITCHES
HOLD_CLASS = N_CLASSES  #: the generator's 50th class: the voice holds the note it plays
N_OUTPUTS = N_CLASSES + 1  #: per voice and step: strike 48 pitches, rest, hold
ONSET = N_CLASSES  #: in the discriminator's view of a voice: the onset flag after 49 classes
N_ACCOMPANIMENT = 3  #: alto, tenor, bass
N_BAR_FEATURES = 4


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of both networks; stored as JSON in every checkpoint."""

    noise_dim: int = 16
    g_channels: int = 96
    g_dilations: tuple[int, ...] = (1, 2, 4, 8, 1, 2, 4, 8)
    d_channels: int = 96
    d_dilations: tuple[int, ...] = (1, 2, 4)
    slope: float = 0.2
    window_steps: int = 32
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def generator_in_channels(self) -> int:
        """Soprano one-hot + onset + bar flags + noise."""
        return N_CLASSES + 1 + N_BAR_FEATURES + self.noise_dim

    def to_json(self) -> str:
        """The configuration as JSON text."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        """Read :meth:`to_json`'s output; unknown keys are an error."""
        values = json.loads(text)
        for key in ("g_dilations", "d_dilations"):
            values[key] = tuple(values[key])
        return cls(**values)


def bar_features(
    steps: int,
    bar_offset: NDArray[np.integer],
    steps_per_bar: int = STEPS_PER_BAR,
    steps_per_beat: int = STEPS_PER_BEAT,
) -> Array:
    """``(batch, steps, 4)`` flags: downbeat, beat, eighth, last beat of the bar.

    ``bar_offset[i]`` is the position in the bar of window ``i``'s first step. A beat lasts
    ``steps_per_beat`` sixteenths: 4 in simple metres (2/4, 3/4, 4/4), 6 (a dotted quarter)
    in compound ones (6/8, 12/8). In 4/4 the flags are exactly those the model trained on.

    >>> waltz = bar_features(12, np.array([0]), steps_per_bar=12)[0]
    >>> waltz[:, 1].nonzero()[0].tolist(), waltz[:, 3].nonzero()[0].tolist()
    ([0, 4, 8], [8, 9, 10, 11])
    >>> jig = bar_features(12, np.array([0]), steps_per_bar=12, steps_per_beat=6)[0]
    >>> jig[:, 1].nonzero()[0].tolist(), jig[:, 3].nonzero()[0].tolist()
    ([0, 6], [6, 7, 8, 9, 10, 11])
    """
    position = (np.arange(steps)[None, :] + np.asarray(bar_offset)[:, None]) % steps_per_bar
    flags = [
        position == 0,
        position % steps_per_beat == 0,
        position % 2 == 0,
        position >= steps_per_bar - steps_per_beat,
    ]
    return np.stack(flags, axis=-1).astype(np.float32)


def generator_inputs(
    soprano: NDArray[np.integer],
    onset: NDArray[np.bool_],
    bar_offset: NDArray[np.integer],
    noise: Array,
    steps_per_bar: int = STEPS_PER_BAR,
    steps_per_beat: int = STEPS_PER_BEAT,
) -> Array:
    """The generator's ``(batch, steps, channels)`` input from soprano pitches ``(batch, steps)``."""
    batch, steps = soprano.shape
    parts = [
        one_hot(pitch_to_class(soprano)),
        onset[..., None].astype(np.float32),
        bar_features(steps, bar_offset, steps_per_bar, steps_per_beat),
        np.broadcast_to(noise[:, None, :], (batch, steps, noise.shape[1])).astype(np.float32),
    ]
    return np.concatenate(parts, axis=-1)


def voice_inputs(pitch: NDArray[np.integer], onset: NDArray[np.bool_]) -> Array:
    """The discriminator's view of voices: ``(..., 50)`` class one-hots with the onset flag last.

    >>> x = voice_inputs(np.array([[60, 60, -1]]), np.array([[True, True, False]]))
    >>> x.shape, x[0, :, 24].tolist(), x[0, :, ONSET].tolist()
    ((1, 3, 50), [1.0, 1.0, 0.0], [1.0, 1.0, 0.0])
    """
    return voice_inputs_from_classes(pitch_to_class(pitch), onset)


def voice_inputs_from_classes(classes: NDArray[np.integer], onset: NDArray[np.bool_]) -> Array:
    """:func:`voice_inputs` from class indices (48 pitches, then rest)."""
    out = np.zeros((*classes.shape, N_OUTPUTS), np.float32)
    np.put_along_axis(out, np.asarray(classes)[..., None], 1.0, axis=-1)
    out[..., ONSET] = onset & (np.asarray(classes) != REST_CLASS)
    return out


def output_classes(pitch: NDArray[np.integer], onset: NDArray[np.bool_]) -> NDArray[np.int8]:
    """The generator's target class per step: the pitch where a note starts, rest, or hold.

    >>> output_classes(np.array([60, 60, 60, -1]), np.array([True, False, True, False])).tolist()
    [24, 49, 24, 48]
    """
    classes = pitch_to_class(pitch)
    held = (classes != REST_CLASS) & ~np.asarray(onset, bool)
    return np.where(held, HOLD_CLASS, classes).astype(np.int8)


class ResidualBlock(nn.Module):
    """``x + leaky_relu(conv(x))`` with a dilated size-3 convolution."""

    def __init__(
        self, channels: int, dilation: int, slope: float, rng: np.random.Generator
    ) -> None:
        self.conv = nn.Conv1d(channels, channels, 3, dilation=dilation, rng=rng, gain=1.0)
        self.act = nn.LeakyReLU(slope)

    def forward(self, x: Array) -> Array:
        out = self.act(self.conv(x))
        out += x
        return out

    def backward(self, grad_out: Array) -> Array:
        grad_x = self.conv.backward(self.act.backward(grad_out))
        grad_x += grad_out
        return grad_x


class Generator(nn.Module):
    """``(batch, steps, generator_in_channels) -> (batch, steps, 3, 50)``: strike, rest, hold logits."""

    def __init__(self, config: ModelConfig, *, rng: np.random.Generator) -> None:
        self.config = config
        width = config.g_channels
        self.lift = nn.Conv1d(config.generator_in_channels, width, 1, rng=rng, gain=1.0)
        self.blocks = [ResidualBlock(width, d, config.slope, rng) for d in config.g_dilations]
        self.act = nn.LeakyReLU(config.slope)
        self.head = nn.Conv1d(width, N_ACCOMPANIMENT * N_OUTPUTS, 1, rng=rng, gain=0.5)

    @property
    def receptive_radius(self) -> int:
        """How many steps on each side of a step can change its output."""
        return sum(block.conv.dilation * (block.conv.kernel_size - 1) // 2 for block in self.blocks)

    def forward(self, x: Array) -> Array:
        h = self.lift(x)
        for block in self.blocks:
            h = block(h)
        logits = self.head(self.act(h))
        return logits.reshape(*logits.shape[:2], N_ACCOMPANIMENT, N_OUTPUTS)

    def backward(self, grad_out: Array) -> Array:
        grad = self.head.backward(grad_out.reshape(*grad_out.shape[:2], -1))
        grad = self.act.backward(grad)
        for block in reversed(self.blocks):
            grad = block.backward(grad)
        return self.lift.backward(grad)


class Discriminator(nn.Module):
    """``(batch, steps, 4, 50)`` voice one-hots and onsets -> ``(batch,)`` logits of being real."""

    def __init__(self, config: ModelConfig, *, rng: np.random.Generator) -> None:
        self.config = config
        width = config.d_channels
        self.intervals = VoicePairIntervals(4, N_PITCHES)
        in_channels = 4 * N_OUTPUTS + len(self.intervals.pairs) * 12
        self.convs: list[nn.Conv1d] = []
        self.acts: list[nn.LeakyReLU] = []
        for index, dilation in enumerate(config.d_dilations):
            c_in = in_channels if index == 0 else width
            self.convs.append(nn.Conv1d(c_in, width, 3, dilation=dilation, rng=rng))
            self.acts.append(nn.LeakyReLU(config.slope))
        self.pool = nn.MeanOverTime()
        self.out = nn.Linear(width, 1, rng=rng)

    def forward(self, x: Array) -> Array:
        batch, steps = x.shape[:2]
        h = np.concatenate(
            [x.reshape(batch, steps, -1), self.intervals(x[..., :N_CLASSES])], axis=-1
        )
        for conv, act in zip(self.convs, self.acts, strict=True):
            h = act(conv(h))
        logits = self.out(self.pool(h))
        result: Array = logits[:, 0]
        return result

    def backward(self, grad_out: Array) -> Array:
        grad = self._backward_to_first_layer(grad_out)
        grad = self.convs[0].backward(grad)
        batch, steps = grad.shape[:2]
        direct = N_OUTPUTS * 4
        grad_x: Array = grad[..., :direct].reshape(batch, steps, 4, N_OUTPUTS).copy()
        grad_x[..., :N_CLASSES] += self.intervals.backward(grad[..., direct:])
        return grad_x

    def backward_parameters_only(self, grad_out: Array) -> None:
        """The parameter gradients without the input gradient (the discriminator's own update)."""
        self.convs[0].backward_parameters_only(self._backward_to_first_layer(grad_out))

    def _backward_to_first_layer(self, grad_out: Array) -> Array:
        grad = self.pool.backward(self.out.backward(grad_out[:, None]))
        for index in reversed(range(1, len(self.convs))):
            grad = self.convs[index].backward(self.acts[index].backward(grad))
        return self.acts[0].backward(grad)
