"""The two networks: a generator that writes alto, tenor and bass under a soprano, and a critic.

Both are convolutional over time (channels last, ``(batch, steps, channels)``), so they run on
a training window and on a whole piece alike.

**Generator.** It writes the three lower voices one 16th-note step at a time, and within a
step the bass first, then the tenor, then the alto. At every step each voice does one of 50
things: **strike** one of 48 pitches (a note starts), **rest**, or **hold** the note it is
playing; striking the pitch it holds re-strikes it, and a note can be as short as one 16th.
The generator gives the scores (logits) of those 50 choices, knowing

- the **melody**, before and after the step: the soprano as a 49-class one-hot, its onset flag
  and four bar-position flags in the melody's metre (downbeat, beat, eighth, last beat of the
  bar), read by residual blocks of dilated size-3 convolutions (``x + leaky_relu(conv(x))``);
- **what it has written**: the three voices at every earlier step, read by residual blocks of
  *causal* dilated size-2 convolutions, added to the melody's features;
- the voices written at this step before this one: a voice's head (:class:`VoiceHead`) reads
  them next to those features;
- and, through a learned table (:mod:`gan_music.relations`), the interval each choice would
  make with every voice already known, its melodic leap and the chord it would complete.

In training every step is known (Bach's own voices, "teacher forcing"), so one pass scores a
whole window; to write music, :mod:`gan_music.decode` runs the same layers step by step. The
soprano is never generated: it is an input only.

**Discriminator.** Input: all four voices as ``(batch, steps, 4, 50)``: per voice a one-hot
of what sounds and its onset flag, flattened to 200 channels and joined by the 72 voice-pair
interval features of :class:`~gan_music.nn.intervals.VoicePairIntervals`; three dilated
size-3 convolutions with leaky ReLUs, the mean over time, one linear unit: a logit saying
"real". It sees the soprano too, so it judges the harmony under that melody.

>>> import numpy as np
>>> config = ModelConfig()
>>> gen = Generator(config, rng=np.random.default_rng(0))
>>> soprano = np.full((2, 32), 69, np.int16)
>>> onset = np.zeros((2, 32), bool); onset[:, 0] = True
>>> lower = np.broadcast_to(np.array([64, 57, 45], np.int16), (2, 32, 3))
>>> batch = teacher_inputs(soprano, onset, lower, onset[..., None].repeat(3, -1), np.zeros(2, int))
>>> gen(batch).shape
(2, 32, 3, 50)
>>> disc = Discriminator(config, rng=np.random.default_rng(1))
>>> disc(np.zeros((2, 32, 4, 50), np.float32)).shape
(2,)
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from gan_music import nn
from gan_music.dataset import one_hot, pitch_to_class
from gan_music.nn.intervals import VoicePairIntervals
from gan_music.nn.module import Array
from gan_music.pianoroll import N_PITCHES, STEPS_PER_BAR, STEPS_PER_BEAT
from gan_music.relations import (
    HOLD_CLASS,
    N_OUTPUTS,
    REST_CLASS,
    WRITING_ORDER,
    Relations,
    beat_kinds,
)

N_CLASSES = N_PITCHES + 1  #: 48 pitches then rest: what a voice sounds at a step
ONSET = N_CLASSES  #: in a voice's view (:func:`voice_inputs`): the onset flag after 49 classes
N_ACCOMPANIMENT = 3  #: alto, tenor, bass
N_BAR_FEATURES = 4
MELODY_CHANNELS = N_CLASSES + 1 + N_BAR_FEATURES  #: soprano one-hot, onset, bar flags


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of both networks; stored as JSON in every checkpoint."""

    g_channels: int = 96  #: width of the melody and history features
    g_dilations: tuple[int, ...] = (1, 2, 4, 8, 1, 2, 4, 8)  #: the melody's residual blocks
    h_dilations: tuple[int, ...] = (1, 2, 4, 8, 16)  #: the history's causal residual blocks
    head_channels: int = 96  #: hidden units of each voice's head
    relations: bool = True  #: add the learned interval, leap and chord tables
    d_channels: int = 96
    d_dilations: tuple[int, ...] = (1, 2, 4)
    slope: float = 0.2
    window_steps: int = 64
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """The configuration as JSON text."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        """Read :meth:`to_json`'s output; unknown keys are an error."""
        values = json.loads(text)
        for key in ("g_dilations", "h_dilations", "d_dilations"):
            if key in values:
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
    position = bar_positions(steps, bar_offset, steps_per_bar)
    flags = [
        position == 0,
        position % steps_per_beat == 0,
        position % 2 == 0,
        position >= steps_per_bar - steps_per_beat,
    ]
    return np.stack(flags, axis=-1).astype(np.float32)


def bar_positions(
    steps: int, bar_offset: NDArray[np.integer], steps_per_bar: int = STEPS_PER_BAR
) -> NDArray[np.intp]:
    """``(batch, steps)``: each step's position in its bar, from the first step's ``bar_offset``."""
    result: NDArray[np.intp] = (np.arange(steps)[None, :] + np.asarray(bar_offset)[:, None]) % (
        steps_per_bar
    )
    return result


def melody_inputs(
    soprano: NDArray[np.integer],
    onset: NDArray[np.bool_],
    bar_offset: NDArray[np.integer],
    steps_per_bar: int = STEPS_PER_BAR,
    steps_per_beat: int = STEPS_PER_BEAT,
) -> Array:
    """The generator's ``(batch, steps, 54)`` melody input from soprano pitches ``(batch, steps)``."""
    parts = [
        one_hot(pitch_to_class(soprano)),
        onset[..., None].astype(np.float32),
        bar_features(soprano.shape[1], bar_offset, steps_per_bar, steps_per_beat),
    ]
    return np.concatenate(parts, axis=-1)


def voice_inputs(pitch: NDArray[np.integer], onset: NDArray[np.bool_]) -> Array:
    """A view of voices: ``(..., 50)`` class one-hots with the onset flag last.

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


class GeneratorInputs(NamedTuple):
    """What the generator reads for a batch of windows whose every step is known."""

    melody: Array  #: ``(batch, steps, 54)`` from :func:`melody_inputs`
    voices: Array  #: ``(batch, steps, 3, 50)`` alto, tenor, bass as :func:`voice_inputs`
    keys: NDArray[np.int32]  #: ``(batch, steps, 3, slots, 50)`` relation keys


def teacher_inputs(
    soprano: NDArray[np.integer],
    onset: NDArray[np.bool_],
    lower: NDArray[np.integer],
    lower_onset: NDArray[np.bool_],
    bar_offset: NDArray[np.integer],
    steps_per_bar: int = STEPS_PER_BAR,
    steps_per_beat: int = STEPS_PER_BEAT,
) -> GeneratorInputs:
    """The generator's inputs for windows whose lower voices are known (Bach's, or samples).

    ``soprano`` ``(batch, steps)`` and ``lower`` ``(batch, steps, 3)`` are MIDI pitches
    (``REST`` for silence) inside the model's range, each window's first step at
    ``bar_offset`` in its bar.
    """
    classes = pitch_to_class(lower).astype(np.int64)
    beat = beat_kinds(bar_positions(soprano.shape[1], bar_offset, steps_per_bar), steps_per_beat)
    keys = relation_layout().teacher_keys(
        classes, lower_onset, pitch_to_class(soprano).astype(np.int64), beat
    )
    return GeneratorInputs(
        melody_inputs(soprano, onset, bar_offset, steps_per_bar, steps_per_beat),
        voice_inputs_from_classes(classes, lower_onset),
        keys,
    )


@functools.cache
def relation_layout() -> Relations:
    """The table layout every generator shares (built once; it only does arithmetic)."""
    return Relations()


class ResidualBlock(nn.Module):
    """``x + leaky_relu(conv(x))`` with a dilated convolution (size 3, or causal size 2)."""

    def __init__(
        self,
        channels: int,
        dilation: int,
        slope: float,
        rng: np.random.Generator,
        *,
        causal: bool = False,
    ) -> None:
        kernel = 2 if causal else 3
        self.conv = nn.Conv1d(
            channels, channels, kernel, dilation=dilation, causal=causal, rng=rng, gain=1.0
        )
        self.act = nn.LeakyReLU(slope)

    def forward(self, x: Array) -> Array:
        out = self.act(self.conv(x))
        out += x
        return out

    def backward(self, grad_out: Array) -> Array:
        grad_x = self.conv.backward(self.act.backward(grad_out))
        grad_x += grad_out
        return grad_x


class VoiceHead(nn.Module):
    """One lower voice's 50 scores from the step's features and the voices written before it.

    Input ``(..., channels + 50 * known)``: the features, then the known voices' views.
    """

    def __init__(
        self,
        channels: int,
        hidden: int,
        known: int,
        slope: float,
        rng: np.random.Generator,
    ) -> None:
        self.hidden = nn.Linear(channels + N_OUTPUTS * known, hidden, rng=rng, gain=2.0**0.5)
        self.act = nn.LeakyReLU(slope)
        self.out = nn.Linear(hidden, N_OUTPUTS, rng=rng, gain=0.5)

    def forward(self, x: Array) -> Array:
        return self.out(self.act(self.hidden(x)))

    def backward(self, grad_out: Array) -> Array:
        return self.hidden.backward(self.act.backward(self.out.backward(grad_out)))


class Generator(nn.Module):
    """:class:`GeneratorInputs` -> ``(batch, steps, 3, 50)`` strike, rest and hold logits."""

    def __init__(self, config: ModelConfig, *, rng: np.random.Generator) -> None:
        self.config = config
        width = config.g_channels
        self.lift = nn.Conv1d(MELODY_CHANNELS, width, 1, rng=rng, gain=1.0)
        self.blocks = [ResidualBlock(width, d, config.slope, rng) for d in config.g_dilations]
        self.history_lift = nn.Conv1d(N_ACCOMPANIMENT * N_OUTPUTS, width, 1, rng=rng, gain=1.0)
        self.history = [
            ResidualBlock(width, d, config.slope, rng, causal=True) for d in config.h_dilations
        ]
        self.heads = [
            VoiceHead(width, config.head_channels, len(_known_lower(v)), config.slope, rng)
            for v in range(N_ACCOMPANIMENT)
        ]
        self.tables = nn.TableSum(relation_layout().size) if config.relations else None
        self._width = width

    @property
    def receptive_radius(self) -> int:
        """How many steps of melody on each side of a step can change its output."""
        return sum(block.conv.dilation for block in self.blocks)

    def melody_features(self, melody: Array) -> Array:
        """``(batch, steps, channels)``: what the blocks make of the melody around each step."""
        h = self.lift(melody)
        for block in self.blocks:
            h = block(h)
        return h

    def forward(self, x: GeneratorInputs) -> Array:
        melody, voices, keys = x
        batch, steps = voices.shape[:2]
        before = np.zeros((batch, steps, N_ACCOMPANIMENT * N_OUTPUTS), voices.dtype)
        before[:, 1:] = voices[:, :-1].reshape(batch, steps - 1, N_ACCOMPANIMENT * N_OUTPUTS)
        h = self.melody_features(melody) + self.history_lift(before)
        for block in self.history:
            h = block(h)
        logits = np.empty((batch, steps, N_ACCOMPANIMENT, N_OUTPUTS), h.dtype)
        for voice, head in enumerate(self.heads):
            known = [voices[:, :, other] for other in _known_lower(voice)]
            logits[:, :, voice] = head(np.concatenate([h, *known], axis=-1) if known else h)
        if self.tables is not None:
            logits += self.tables(keys)
        return logits

    def backward(self, grad_out: Array) -> Array:
        """Write every parameter's gradient; return the gradient for the melody input."""
        if self.tables is not None:
            self.tables.backward(grad_out)
        grads = [
            head.backward(np.ascontiguousarray(grad_out[:, :, voice]))[..., : self._width]
            for voice, head in enumerate(self.heads)
        ]
        grad = np.ascontiguousarray(grads[0] + grads[1] + grads[2])
        for block in reversed(self.history):
            grad = block.backward(grad)
        self.history_lift.backward_parameters_only(grad)
        for block in reversed(self.blocks):
            grad = block.backward(grad)
        return self.lift.backward(grad)


def _known_lower(voice: int) -> tuple[int, ...]:
    """The lower voices written before ``voice`` within a step (bass, then tenor)."""
    return WRITING_ORDER[: WRITING_ORDER.index(voice)]


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
