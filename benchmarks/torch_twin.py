"""The numpy GAN's twin in PyTorch: the same layers, weights, losses, optimiser and both steps.

The twin is built *from a numpy network*: every convolution, linear layer and table takes its
sizes, dilation and weights from the numpy layer it mirrors, and its parameters carry the
same dotted names (``history.3.conv.weight``, ``heads.0.hidden.weight``, ``tables.table``),
so a change to the model's configuration reaches the twin by itself, and a change to its
structure makes :func:`copy_weights` fail by name. :func:`check_twin` then proves the two
compute the same thing: forward outputs, the fakes the sampler draws, every loss of a
cross-entropy step and of an adversarial step, and every parameter's gradient, on the same
inputs.

Written as a PyTorch user would: channels-first ``torch.nn.Conv1d`` with ``padding="same"``
(which pads like the numpy layer: half the receptive field on the left, the rest on the
right) or, for the causal history layers, padded on the left only; the voice heads as
``torch.nn.Linear`` on channels-last features; the relation tables as a gather and a sum
over the key slots; autograd for every backward pass (the cross-entropy, and REINFORCE as
the surrogate loss ``-mean(advantage * log q(move))`` whose gradient is
:func:`gan_music.decode.policy_gradient`'s); ``torch.optim.Adam`` in its fused CPU form (the
fastest of its three implementations here); and the discriminator's frozen pass under
``torch.no_grad``.

What is *not* network work stays numpy's own code on both sides, called the same way from
the same random stream: drawing the batch, the relation keys
(:func:`gan_music.models.teacher_inputs`; in the sampler the ``pair_keys``,
``melodic_keys`` and ``chord_keys`` of :class:`gan_music.relations.Relations`), the
decoder's rules (:func:`gan_music.decode.parallel_moves`, :func:`gan_music.decode.parallels`,
:func:`gan_music.decode.allowed_moves`), the rule term's weights
(:func:`gan_music.train.rule_weights`), the Gumbel noise of every step and the bookkeeping of
the notes written (so the twin stays identical to numpy step after step, and both pay the
same for them).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias, cast

import numpy as np
import torch
import torch.nn.functional as F
from flops import STEP_KINDS, first_step
from numpy.typing import NDArray
from torch import nn as tnn

from gan_music import nn
from gan_music.dataset import class_to_pitch, pitch_to_class
from gan_music.decode import DecoderConfig, allowed_moves, parallel_moves, parallels
from gan_music.decode import sample_voices as numpy_sample_voices
from gan_music.models import (
    N_ACCOMPANIMENT,
    N_CLASSES,
    ONSET,
    Discriminator,
    Generator,
    GeneratorInputs,
    ResidualBlock,
    VoiceHead,
    bar_positions,
    melody_inputs,
    relation_layout,
    teacher_inputs,
    voice_inputs,
)
from gan_music.nn import gumbel_noise
from gan_music.pianoroll import LOWEST_PITCH, STEPS_PER_BAR, STEPS_PER_BEAT
from gan_music.relations import (
    BASS,
    HOLD_CLASS,
    KNOWN,
    N_OUTPUTS,
    REST_CLASS,
    SOPRANO,
    WRITING_ORDER,
    beat_kinds,
)
from gan_music.train import TrainConfig, Trainer, TrainingData, rule_weights

#: Largest float32 difference allowed between numpy and the twin in outputs and losses,
#: relative to each array's largest magnitude: sums taken in another order differ by 1e-7
#: to 1e-6.
TOLERANCE = 1e-4
#: ... and in gradients. Two correct float32 computations of this model's gradients differ
#: by more: a leaky ReLU whose input rounds to the other side of 0 on one side only changes
#: that unit's gradient by 80%, and with it its row's share of a weight gradient (about one
#: part in the 2,048 or 4,096 rows of a step); some gradients are small differences of
#: large sums. Over seeds 0 to 10, a step of each kind, the twin's float32 gradients
#: differed from numpy's by up to 1.2e-3, and numpy's float32 gradients from its own float64
#: ones for the same step by as much.
#: The float64 check is where the gradients' formulas are proven.
GRADIENT_TOLERANCE = 1e-2
#: In float64 both sides round so little that any real difference in the computation shows.
TOLERANCE_FLOAT64 = 1e-9


def twin_conv(layer: nn.Conv1d) -> tnn.Conv1d:
    """A ``torch.nn.Conv1d`` with the numpy layer's sizes, dilation and padding."""
    kernel, c_in, c_out = layer.weight.shape
    span = layer.dilation * (kernel - 1)
    if layer.causal:
        if (layer.pad_left, layer.pad_right) != (span, 0):
            msg = f"the causal numpy convolution pads {layer.pad_left} steps left, not {span}"
            raise ValueError(msg)
        return CausalConv1d(c_in, c_out, kernel, dilation=layer.dilation)
    if layer.pad_left != span // 2:
        msg = f"the numpy convolution pads {layer.pad_left} steps on the left, not 'same' padding"
        raise ValueError(msg)
    return tnn.Conv1d(c_in, c_out, kernel, dilation=layer.dilation, padding="same")


class CausalConv1d(tnn.Conv1d):
    """A ``Conv1d`` that pads on the left only: output step ``t`` sees steps ``t`` and before."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        span = self.dilation[0] * (self.kernel_size[0] - 1)
        out: torch.Tensor = super().forward(F.pad(x, (span, 0)))
        return out


def twin_linear(layer: nn.Linear) -> tnn.Linear:
    """A ``torch.nn.Linear`` with the numpy layer's sizes."""
    c_in, c_out = layer.weight.shape
    return tnn.Linear(c_in, c_out)


def to_torch_layout(array: NDArray[Any]) -> NDArray[Any]:
    """A numpy weight in PyTorch's layout: conv (k, in, out) -> (out, in, k); linear transposed."""
    return np.ascontiguousarray(array.T)


class TwinResidualBlock(tnn.Module):
    """``x + leaky_relu(conv(x))``, channels first; the conv "same" or causal."""

    def __init__(self, block: ResidualBlock) -> None:
        super().__init__()
        self.conv = twin_conv(block.conv)
        self.slope = block.act.slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = x + F.leaky_relu(self.conv(x), self.slope)
        return out


class TwinVoiceHead(tnn.Module):
    """``out(leaky_relu(hidden(x)))`` on channels-last features."""

    def __init__(self, head: VoiceHead) -> None:
        super().__init__()
        self.hidden = twin_linear(head.hidden)
        self.out = twin_linear(head.out)
        self.slope = head.act.slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.out(F.leaky_relu(self.hidden(x), self.slope))
        return out


class TwinTableSum(tnn.Module):
    """The learned relation table: entries gathered by the integer keys, summed over the slots.

    Plain indexing with int64 keys: ``F.embedding`` (a table of 1-wide rows) computed the
    same, but its backward pass took 80 ms per training step here, indexing's 6 ms.

    The last entry is fixed at zero in numpy (its gradient is never written); here it is read
    from a zero-padded copy of the others, so autograd gives it no gradient either.
    """

    def __init__(self, tables: nn.TableSum) -> None:
        super().__init__()
        self.table = tnn.Parameter(torch.zeros(tables.size + 1))

    def forward(self, keys: torch.Tensor) -> torch.Tensor:
        table = F.pad(self.table[:-1], (0, 1))
        out: torch.Tensor = table[keys.long()].sum(dim=-2)
        return out


class TwinGenerator(tnn.Module):
    """The generator: melody, voices and keys to ``(batch, steps, 3, 50)`` teacher-forced logits."""

    def __init__(self, generator: Generator) -> None:
        super().__init__()
        self.lift = twin_conv(generator.lift)
        self.blocks = tnn.ModuleList(TwinResidualBlock(block) for block in generator.blocks)
        self.history_lift = twin_conv(generator.history_lift)
        self.history = tnn.ModuleList(TwinResidualBlock(block) for block in generator.history)
        self.heads = tnn.ModuleList(TwinVoiceHead(head) for head in generator.heads)
        self.tables = TwinTableSum(generator.tables) if generator.tables is not None else None
        # the lower voices a head reads next to the features: those written before it
        self.known = [WRITING_ORDER[: WRITING_ORDER.index(v)] for v in range(len(self.heads))]
        width = generator.config.g_channels
        for voice, head in enumerate(generator.heads):
            if head.hidden.weight.shape[0] != width + N_OUTPUTS * len(self.known[voice]):
                msg = f"head {voice} no longer reads the voices {self.known[voice]} besides h"
                raise ValueError(msg)

    def melody_features(self, melody: torch.Tensor) -> torch.Tensor:
        """``(batch, channels, steps)``: the melody blocks' view of ``(batch, steps, 54)``."""
        h: torch.Tensor = self.lift(melody.transpose(1, 2))
        for block in self.blocks:
            h = block(h)
        return h

    def forward(
        self, melody: torch.Tensor, voices: torch.Tensor, keys: torch.Tensor
    ) -> torch.Tensor:
        batch, steps = voices.shape[:2]
        width = N_ACCOMPANIMENT * N_OUTPUTS
        before = F.pad(voices[:, :-1].reshape(batch, steps - 1, width), (0, 0, 1, 0))
        h = self.melody_features(melody) + self.history_lift(before.transpose(1, 2))
        for block in self.history:
            h = block(h)
        h = h.transpose(1, 2)
        logits = []
        for head, known in zip(self.heads, self.known, strict=True):
            seen = [voices[:, :, other] for other in known]
            logits.append(head(torch.cat([h, *seen], dim=-1) if seen else h))
        out = torch.stack(logits, dim=2)
        if self.tables is not None:
            out = out + self.tables(keys)
        return out


class TwinVoicePairIntervals(tnn.Module):
    """The interval features as the bilinear form of two chromas, left to autograd.

    ``f[k] = sum_a c_upper[a] * c_lower[(a - k) mod 12]``; on one-hots this is the one-hot
    of the interval class that the numpy layer reads off the argmaxes, and its autograd
    gradient is the one the numpy layer writes by hand.
    """

    upper: torch.Tensor
    lower: torch.Tensor
    shift: torch.Tensor

    def __init__(self, pairs: list[tuple[int, int]], n_pitches: int) -> None:
        super().__init__()
        self.n_pitches = n_pitches
        self.register_buffer("upper", torch.tensor([u for u, _ in pairs]))
        self.register_buffer("lower", torch.tensor([lo for _, lo in pairs]))
        k, a = np.meshgrid(np.arange(12), np.arange(12), indexing="ij")
        self.register_buffer("shift", torch.from_numpy((a - k) % 12))  # shift[k, a]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, steps, voices = x.shape[:3]
        pitches = x[..., : self.n_pitches].reshape(batch, steps, voices, -1, 12)
        chroma = pitches.sum(dim=3)
        upper = chroma[:, :, self.upper]
        lower = chroma[:, :, self.lower][..., self.shift]  # [..., k, a] = c_lower[(a - k) % 12]
        features: torch.Tensor = torch.einsum("btpa,btpka->btpk", upper, lower)
        return features.reshape(batch, steps, -1)


class TwinDiscriminator(tnn.Module):
    """The critic: ``(batch, steps, 4, 50)`` one-hots and onsets to ``(batch,)`` logits of being real."""

    def __init__(self, discriminator: Discriminator) -> None:
        super().__init__()
        self.slope = discriminator.config.slope
        intervals = discriminator.intervals
        self.intervals = TwinVoicePairIntervals(intervals.pairs, intervals.n_pitches)
        self.convs = tnn.ModuleList(twin_conv(conv) for conv in discriminator.convs)
        self.out = twin_linear(discriminator.out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, steps = x.shape[:2]
        pairs = self.intervals(x[..., :N_CLASSES])
        h = torch.cat([x.reshape(batch, steps, -1), pairs], dim=-1).transpose(1, 2)
        for conv in self.convs:
            h = F.leaky_relu(conv(h), self.slope)
        logits: torch.Tensor = self.out(h.mean(dim=2))
        return logits[:, 0]


def copy_weights(source: nn.Module, twin: tnn.Module) -> None:
    """Copy every numpy parameter into the twin's parameter of the same name."""
    ours = source.named_parameters()
    theirs = dict(twin.named_parameters())
    if set(ours) != set(theirs):
        msg = (
            "the PyTorch twin no longer mirrors the numpy network: "
            f"only numpy has {sorted(set(ours) - set(theirs))}, "
            f"only the twin has {sorted(set(theirs) - set(ours))}"
        )
        raise ValueError(msg)
    with torch.no_grad():
        for name, parameter in theirs.items():
            weight = torch.from_numpy(to_torch_layout(ours[name].data))
            if weight.shape != parameter.shape:
                msg = f"{name}: numpy {ours[name].shape} does not map to PyTorch {parameter.shape}"
                raise ValueError(msg)
            parameter.copy_(weight)


def n_parameters(module: tnn.Module) -> int:
    """How many numbers the PyTorch module learns."""
    return sum(p.numel() for p in module.parameters())


def sample_voices(
    generator: TwinGenerator,
    soprano: NDArray[np.integer],
    onset: NDArray[np.bool_],
    bar_offset: NDArray[np.integer],
    rng: np.random.Generator,
    config: DecoderConfig,
    *,
    dtype: torch.dtype = torch.float32,
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """:func:`gan_music.decode.sample_voices` in the twin: one draft, no critic, in 4/4.

    ``soprano`` ``(batch, steps)`` holds classes; the result is alto, tenor and bass classes
    and onsets ``(batch, steps, 3)``, drawn with numpy's Gumbel noise from ``rng``, so the
    same stream gives numpy's notes.
    """
    classes = np.asarray(soprano, np.int64)
    steps = classes.shape[1]
    pitch = np.where(classes == REST_CLASS, -1, classes + LOWEST_PITCH)
    beat = beat_kinds(bar_positions(steps, bar_offset, STEPS_PER_BAR), STEPS_PER_BEAT)
    with torch.inference_mode():
        melody = torch.from_numpy(melody_inputs(pitch, onset, bar_offset)).to(dtype)
        features = generator.melody_features(melody).transpose(1, 2)
        return _Writer(generator, classes, beat, rng, config).run(features)


class _Writer:
    """``gan_music.decode._Writer`` with the network in PyTorch: a step, then a voice, at a time.

    The causal layers run one step at a time from their own earlier inputs (``seen``); then,
    as numpy's ``_write_step`` does, the step's relation terms with the melody and each
    voice's own line for all three voices at once (keys, penalty, masks and the Gumbel noise
    of the whole step by numpy's code, the table gathered here), and the bass, tenor and alto
    heads in turn, each with the terms of the voices written before it at this step.
    """

    def __init__(
        self,
        generator: TwinGenerator,
        soprano: NDArray[np.int64],
        beat: NDArray[np.intp],
        rng: np.random.Generator,
        config: DecoderConfig,
    ) -> None:
        self.generator = generator
        self.heads = cast(list[TwinVoiceHead], list(generator.heads))
        self.history = cast(list[TwinResidualBlock], list(generator.history))
        self.config = config
        self.rng = rng
        batch, steps = soprano.shape
        self.classes = np.full((batch, steps, 4), REST_CLASS, np.int64)
        self.classes[:, :, SOPRANO] = soprano
        self.onset = np.zeros((batch, steps, N_ACCOMPANIMENT), bool)
        self.beat = beat
        self.last_note = np.full((batch, N_ACCOMPANIMENT), REST_CLASS, np.int64)
        self.note_before = np.full((batch, N_ACCOMPANIMENT), REST_CLASS, np.int64)
        self.rows = torch.arange(batch)
        self.views = torch.zeros(batch, N_ACCOMPANIMENT, N_OUTPUTS)

    def run(self, features: torch.Tensor) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        generator = self.generator
        batch, steps, width = features.shape
        self.views = self.views.to(features.dtype)
        lift = generator.history_lift
        lift_weight, lift_bias = lift.weight[:, :, 0], lift.bias
        layers = [
            (
                block.conv.weight[:, :, 1].contiguous(),  # the tap on step t
                block.conv.weight[:, :, 0].contiguous(),  # the tap on step t - dilation
                block.conv.bias,
                block.conv.dilation[0],
                block.slope,
            )
            for block in self.history
        ]
        inputs = [features.new_zeros(batch, steps, width) for _ in layers]
        for t in range(steps):
            h = features[:, t] + F.linear(self.views.reshape(batch, -1), lift_weight, lift_bias)
            for (now_tap, past_tap, bias, dilation, slope), seen in zip(
                layers, inputs, strict=True
            ):
                seen[:, t] = h
                y = F.linear(h, now_tap, bias)
                if t >= dilation:
                    y = y + F.linear(seen[:, t - dilation], past_tap)
                h = h + F.leaky_relu(y, slope)
            self._write_step(t, h)
        return self.classes[:, :, :N_ACCOMPANIMENT].copy(), self.onset

    def _write_step(self, t: int, h: torch.Tensor) -> None:
        classes, batch = self.classes, len(h)
        tables = self.generator.tables
        before = classes[:, t - 1] if t else np.full((batch, 4), REST_CLASS, np.int64)
        now = classes[:, t]
        previous = before[:, :N_ACCOMPANIMENT]
        beat = self.beat[:, t, None]
        layout = relation_layout()

        def table(keys: NDArray[np.integer]) -> torch.Tensor:
            assert tables is not None
            return tables.table[torch.from_numpy(keys)].double()

        # the melody's and each voice's own line's terms, all three voices at once
        extra = torch.zeros(batch, N_ACCOMPANIMENT, N_OUTPUTS, dtype=torch.float64)
        if tables is not None:
            voices = np.arange(N_ACCOMPANIMENT)
            melody_before, melody_now = before[:, SOPRANO, None], now[:, SOPRANO, None]
            extra = extra + table(
                layout.pair_keys(voices, SOPRANO, beat, previous, melody_before, melody_now)
            )
            extra = extra + table(layout.melodic_keys(voices, beat, previous, self.note_before))
        penalty = self.config.parallel_penalty
        if penalty:
            found = parallel_moves(previous, before[:, SOPRANO, None], now[:, SOPRANO, None])
            extra = extra - penalty * torch.from_numpy(found).double()
        silent = now[:, SOPRANO] == REST_CLASS
        allowed = allowed_moves(previous, silent[:, None])
        extra = extra.masked_fill(torch.from_numpy(~allowed), -math.inf)
        temperature = self.config.temperature
        noise = None
        if temperature > 0:
            noise = torch.from_numpy(gumbel_noise(self.rng, tuple(extra.shape), np.float64))
        self.views.zero_()
        for voice in WRITING_ORDER:
            head = self.heads[voice]
            known = [self.views[:, other] for other in KNOWN[voice] if other != SOPRANO]
            hidden = head.hidden(torch.cat([h, *known], dim=-1) if known else h)
            logits = head.out(F.leaky_relu(hidden, head.slope)).double() + extra[:, voice]
            own = previous[:, voice]
            for other in KNOWN[voice][1:]:  # the lower voices already written at this step
                other_before, other_now = before[:, other], now[:, other]
                if tables is not None:
                    logits = logits + table(
                        layout.pair_keys(voice, other, beat[:, 0], own, other_before, other_now)
                    )
                if penalty:
                    found = parallel_moves(own, other_before, other_now)
                    logits = logits - penalty * torch.from_numpy(found).double()
            if tables is not None and voice != BASS:
                logits = logits + table(layout.chord_keys(voice, beat[:, 0], before, now))
            if noise is not None:
                logits = logits / temperature + noise[:, voice]
            self._play(t, voice, logits.argmax(dim=-1).numpy(), own)

    def _play(
        self, t: int, voice: int, move: NDArray[np.int64], previous: NDArray[np.int64]
    ) -> None:
        """Write each row's move of ``voice`` at step ``t`` and keep its line's bookkeeping."""
        held = move == HOLD_CLASS
        sounding = np.where(held, previous, move)
        struck = ~held & (sounding != REST_CLASS)
        self.classes[:, t, voice] = sounding
        self.onset[:, t, voice] = struck
        self.views[self.rows, voice, torch.from_numpy(sounding)] = 1.0
        self.views[:, voice, ONSET] = torch.from_numpy(struck).to(self.views.dtype)
        starts = struck | ((sounding != REST_CLASS) & (previous == REST_CLASS))
        self.note_before[:, voice] = np.where(
            starts, self.last_note[:, voice], self.note_before[:, voice]
        )
        self.last_note[:, voice] = np.where(starts, sounding, self.last_note[:, voice])


def reinforce_loss(
    logits: torch.Tensor,
    soprano: NDArray[np.integer],
    classes: NDArray[np.integer],
    struck: NDArray[np.bool_],
    reward: torch.Tensor,
    config: DecoderConfig,
) -> torch.Tensor:
    """``-mean(advantage * log q(moves))``: autograd's gradient of it is ``policy_gradient``'s.

    ``q`` is the distribution the moves were drawn from (the decoder's penalty, its masks and
    its temperature, computed by numpy's rules from the notes written); each piece's
    advantage is its reward less the batch's mean, over the batch's standard deviation.
    Computed in float64 whatever the logits' precision, as ``policy_gradient`` computes it;
    autograd returns the gradient in the logits' dtype, as ``policy_gradient`` does.
    """
    now = np.concatenate([classes, np.asarray(soprano)[..., None]], axis=-1).astype(np.int64)
    before = np.full_like(now, REST_CLASS)
    before[:, 1:] = now[:, :-1]
    scores = logits.double()
    if config.parallel_penalty:
        flat_before, flat_now = before.reshape(-1, 4), now.reshape(-1, 4)
        found = np.stack(
            [parallels(voice, flat_before, flat_now) for voice in range(N_ACCOMPANIMENT)], axis=1
        ).reshape(logits.shape)
        scores = scores - config.parallel_penalty * torch.from_numpy(found).double()
    silent = np.broadcast_to((now[..., SOPRANO] == REST_CLASS)[..., None], classes.shape)
    allowed = allowed_moves(before[..., :N_ACCOMPANIMENT], silent)
    scores = scores.masked_fill(torch.from_numpy(~allowed), -math.inf)
    log_q = torch.log_softmax(scores / max(config.temperature, 1e-6), dim=-1)
    held = ~np.asarray(struck, bool) & (np.asarray(classes) != REST_CLASS)
    moves = torch.from_numpy(np.where(held, HOLD_CLASS, classes).astype(np.int64))
    picked = log_q.gather(-1, moves[..., None])[..., 0]
    reward = reward.double()
    advantage = (reward - reward.mean()) / (reward.std(correction=0) + 1e-6)
    return -(advantage[:, None, None] * picked).sum() / picked.numel()


@dataclass(frozen=True)
class Batch:
    """One step's inputs, drawn exactly as ``Trainer.train_step`` draws them."""

    soprano: NDArray[np.int16]
    onset: NDArray[np.bool_]
    offset: NDArray[np.intp]
    lower: NDArray[np.int16]
    real: GeneratorInputs
    targets: torch.Tensor


def draw_batch(config: TrainConfig, rng: np.random.Generator, data: TrainingData) -> Batch:
    """The batch, from ``rng`` with the same calls as numpy's step."""
    batch = rng.integers(0, len(data), config.batch_size)
    soprano, onset, offset = data.soprano[batch], data.onset[batch], data.bar_offset[batch]
    lower = data.lower[batch]
    real = teacher_inputs(soprano, onset, lower, data.lower_onset[batch], offset)
    targets = torch.from_numpy(data.outputs[batch].astype(np.int64))
    return Batch(soprano, onset, offset, lower, real, targets)


def tensors(inputs: GeneratorInputs, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
    """The generator's numpy inputs as the twin takes them: melody, voices, keys."""
    return (
        torch.from_numpy(inputs.melody).to(dtype),
        torch.from_numpy(inputs.voices).to(dtype),
        torch.from_numpy(inputs.keys),
    )


class TwinTrainer:
    """The numpy ``Trainer``'s step in PyTorch, from a fresh numpy trainer's exact state."""

    def __init__(self, trainer: Trainer, dtype: torch.dtype = torch.float32) -> None:
        self.config = trainer.config
        self.dtype = dtype
        self.generator = TwinGenerator(trainer.generator).to(dtype)
        self.discriminator = TwinDiscriminator(trainer.discriminator).to(dtype)
        copy_weights(trainer.generator, self.generator)
        copy_weights(trainer.discriminator, self.discriminator)
        cfg = trainer.config
        self.opt_g = torch.optim.Adam(
            self.generator.parameters(), lr=cfg.lr_g, betas=cfg.betas_g, eps=trainer.opt_g.eps,
            fused=True,
        )  # fmt: skip
        self.opt_d = torch.optim.Adam(
            self.discriminator.parameters(), lr=cfg.lr_d, betas=cfg.betas_d,
            eps=trainer.opt_d.eps, fused=True,
        )  # fmt: skip
        self.step = trainer.step
        self.ema_decay = trainer.ema.decay
        self.ema_updates = trainer.ema.updates
        self.ema = [p.detach().clone() for p in self.generator.parameters()]
        self.rng = np.random.default_rng()
        self.rng.bit_generator.state = trainer.rng.bit_generator.state

    def train_step(self, data: TrainingData) -> tuple[float, ...]:
        """One step of the kind numpy's would take now; the same loss components as numpy's."""
        cfg = self.config
        scale = cfg.learning_rate_scale(self.step)
        for optimiser, lr in ((self.opt_g, cfg.lr_g), (self.opt_d, cfg.lr_d)):
            for group in optimiser.param_groups:
                group["lr"] = lr * scale
        b = draw_batch(cfg, self.rng, data)
        if cfg.adversarial(self.step):
            values = self._adversarial_step(b)
        else:
            values = self._cross_entropy_step(b)
        self.opt_g.step()
        self._update_average()
        self.step += 1
        return tuple(float(v) for v in values)

    def _cross_entropy_step(self, b: Batch) -> tuple[float | torch.Tensor, ...]:
        cfg = self.config
        logits = self.generator(*tensors(b.real, self.dtype))
        g_ce = F.cross_entropy(logits.reshape(-1, N_OUTPUTS), b.targets.reshape(-1))
        self.opt_g.zero_grad()
        torch.autograd.backward(cfg.ce_weight * g_ce + self._rule_loss(logits, b))
        g_ce = g_ce.detach()
        nan = math.nan
        return (cfg.ce_weight * g_ce, nan, nan, g_ce, nan, nan)

    def _adversarial_step(self, b: Batch) -> tuple[float | torch.Tensor, ...]:
        cfg, size = self.config, self.config.batch_size
        melody = pitch_to_class(b.soprano)
        classes, struck = sample_voices(
            self.generator, melody, b.onset, b.offset, self.rng, cfg.decoder, dtype=self.dtype
        )
        fake = teacher_inputs(b.soprano, b.onset, class_to_pitch(classes), struck, b.offset)
        melody_view = voice_inputs(b.soprano, b.onset)[:, :, None]
        real4, fake4 = (
            torch.from_numpy(np.concatenate([melody_view, inputs.voices], axis=2)).to(self.dtype)
            for inputs in (b.real, fake)
        )

        scores = self.discriminator(torch.cat([real4, fake4]))
        real_scores, fake_scores = scores[:size], scores[size:]
        d_real = F.binary_cross_entropy_with_logits(real_scores, torch.ones_like(real_scores))
        d_fake = F.binary_cross_entropy_with_logits(fake_scores, torch.zeros_like(fake_scores))
        if float((d_real + d_fake).detach()) >= cfg.d_loss_floor:  # as numpy: rest a winning critic
            self.opt_d.zero_grad()
            torch.autograd.backward(d_real + d_fake)
            self.opt_d.step()
        with torch.no_grad():
            fooled = self.discriminator(fake4).double()
        reward = -torch.logaddexp(torch.zeros_like(fooled), -fooled)  # log D(fake)
        g_adv = -reward.mean()

        both = GeneratorInputs(*(np.concatenate(pair) for pair in zip(b.real, fake, strict=True)))
        logits = self.generator(*tensors(both, self.dtype))
        g_ce = F.cross_entropy(logits[:size].reshape(-1, N_OUTPUTS), b.targets.reshape(-1))
        surrogate = reinforce_loss(logits[size:], melody, classes, struck, reward, cfg.decoder)
        # the cross-entropy is the mean over the real half, as in the cross-entropy step
        g_loss = (
            cfg.ce_weight * g_ce + cfg.adv_weight * surrogate + self._rule_loss(logits[:size], b)
        )
        self.opt_g.zero_grad()
        torch.autograd.backward(g_loss)
        g_ce = g_ce.detach()
        d_real, d_fake = d_real.detach(), d_fake.detach()
        return (
            cfg.ce_weight * g_ce + cfg.adv_weight * g_adv,
            d_real + d_fake,
            g_adv,
            g_ce,
            d_real,
            d_fake,
        )

    def _rule_loss(self, logits: torch.Tensor, b: Batch) -> torch.Tensor | float:
        """numpy's rule term: the weighted probability of rule-breaking moves (same weights)."""
        if not self.config.learns_rules:
            return 0.0
        weights = torch.from_numpy(rule_weights(self.config, b.soprano, b.lower)).to(self.dtype)
        return (torch.softmax(logits, dim=-1) * weights).sum(dim=-1).mean()

    def _update_average(self) -> None:
        decay = min(self.ema_decay, (1.0 + self.ema_updates) / (10.0 + self.ema_updates))
        self.ema_updates += 1
        with torch.no_grad():
            for average, parameter in zip(self.ema, self.generator.parameters(), strict=True):
                average.lerp_(parameter, 1.0 - decay)


def relative_difference(ours: NDArray[Any], theirs: NDArray[Any]) -> float:
    """``max |ours - theirs| / max |ours|``: the difference on the array's own scale."""
    scale = float(np.max(np.abs(ours)))
    return float(np.max(np.abs(ours - theirs))) / scale if scale > 0 else 0.0


def torch_gradient(parameter: torch.Tensor) -> NDArray[Any]:
    """A twin parameter's gradient in the numpy layout (zeros if it has none)."""
    if parameter.grad is None:
        return np.zeros(tuple(reversed(parameter.shape)))
    return to_torch_layout(parameter.grad.numpy())  # the transpose is its own inverse


@dataclass(frozen=True)
class StepResult:
    """What one side computed in one step: outputs, the notes sampled, losses and gradients."""

    outputs: list[NDArray[Any]]
    fakes: NDArray[Any] | None
    losses: NDArray[np.float64]
    gradients: dict[str, NDArray[Any]]


def relative_differences(ours: StepResult, theirs: StepResult) -> dict[str, float]:
    """Array by array, :func:`relative_difference` on the scale of ``ours``."""
    found = {
        f"output {index}": relative_difference(a, b)
        for index, (a, b) in enumerate(zip(ours.outputs, theirs.outputs, strict=True))
    }
    if not np.array_equal(np.isnan(ours.losses), np.isnan(theirs.losses)):
        msg = f"losses {ours.losses} and {theirs.losses} are not of the same kind of step"
        raise AssertionError(msg)
    known = ~np.isnan(ours.losses)
    found["losses"] = float(
        np.max(np.abs(ours.losses - theirs.losses)[known] / np.abs(ours.losses[known]))
    )
    for name, grad in ours.gradients.items():
        found[name] = relative_difference(grad, theirs.gradients[name])
    return found


@dataclass(frozen=True)
class Differences:
    """The largest relative differences between two sides over one step, by kind."""

    outputs: float
    losses: float
    gradients: float
    compared: int
    #: moves the two samplers drew differently (adversarial step only)
    moves_differing: int = 0
    moves: int = 0

    @classmethod
    def between(cls, ours: StepResult, theirs: StepResult) -> Differences:
        """How far ``theirs`` is from ``ours``."""
        found = relative_differences(ours, theirs)
        moves_differing, moves = 0, 0
        if ours.fakes is not None and theirs.fakes is not None:
            moves_differing, moves = int((ours.fakes != theirs.fakes).sum()), ours.fakes[0].size
        return cls(
            outputs=max(v for k, v in found.items() if k.startswith("output ")),
            losses=found["losses"],
            gradients=max(found[name] for name in ours.gradients),
            compared=len(found),
            moves_differing=moves_differing,
            moves=moves,
        )

    @property
    def worst(self) -> float:
        """The largest of the three; infinite if the samplers drew different notes."""
        return math.inf if self.moves_differing else max(self.outputs, self.losses, self.gradients)

    def __str__(self) -> str:
        sampled = f", {self.moves_differing} of {self.moves:,} moves drawn differently" * (
            self.moves > 0
        )
        return (
            f"outputs {self.outputs:.1e}, losses {self.losses:.1e}, "
            f"gradients {self.gradients:.1e} over {self.compared} arrays{sampled}"
        )


@dataclass(frozen=True)
class TwinCheck:
    """The parameter counts of both, and how far apart they are, by step kind and precision.

    ``float64``: the twin against numpy, both in float64. ``float32``: the twin as timed
    against numpy as timed; ``numpy_float32``: numpy's float32 step against its float64
    values of the same step (numpy's own rounding, for scale).
    """

    g_parameters: tuple[int, int]
    d_parameters: tuple[int, int]
    float64: dict[str, Differences]
    float32: dict[str, Differences]
    numpy_float32: dict[str, Differences]

    @property
    def passed(self) -> bool:
        """Within every tolerance, the same notes drawn, and the same parameter counts."""
        timed = all(
            max(d.outputs, d.losses) <= TOLERANCE
            and d.gradients <= GRADIENT_TOLERANCE
            and not d.moves_differing
            for d in self.float32.values()
        )
        exact = all(d.worst <= TOLERANCE_FLOAT64 for d in self.float64.values())
        same = self.g_parameters[0] == self.g_parameters[1]
        return timed and exact and same and self.d_parameters[0] == self.d_parameters[1]

    def summary(self) -> str:
        """A paragraph for the report."""

        def steps(by_kind: dict[str, Differences]) -> str:
            return "; ".join(f"{kind} step: {d}" for kind, d in by_kind.items())

        return (
            f"Parameters: generator {self.g_parameters[0]:,} (numpy) and "
            f"{self.g_parameters[1]:,} (PyTorch), discriminator {self.d_parameters[0]:,} and "
            f"{self.d_parameters[1]:,}. Twin check, each step's batch and "
            "sampled notes drawn from the same random stream on both sides (outputs: the "
            "teacher-forced logits and the critic's scores on the step's batch; then every "
            "loss and every parameter's gradient), largest relative difference in float64, "
            f"a cross-entropy step and the adversarial step after it: {steps(self.float64)}, "
            f"tolerance {TOLERANCE_FLOAT64:.0e}. In float32, as timed, a step of each kind "
            f"from a fresh trainer: {steps(self.float32)}, tolerance {TOLERANCE:.0e} "
            f"({GRADIENT_TOLERANCE:.0e} for gradients, which two correct float32 "
            "computations do not share more closely: numpy's own float32 step against its "
            f"float64 values: {steps(self.numpy_float32)})."
        )


Side: TypeAlias = Trainer | TwinTrainer  #: a numpy trainer or a twin


def _outputs(side: Side, b: Batch) -> list[NDArray[Any]]:
    """The generator's teacher-forced logits and the critic's scores on the real windows."""
    real4 = np.concatenate([voice_inputs(b.soprano, b.onset)[:, :, None], b.real.voices], axis=2)
    if isinstance(side, Trainer):
        return [side.generator.forward(b.real).copy(), side.discriminator(real4).copy()]
    with torch.no_grad():
        logits = side.generator(*tensors(b.real, side.dtype))
        scores = side.discriminator(torch.from_numpy(real4).to(side.dtype))
    return [logits.numpy(), scores.numpy()]


def _fakes(side: Side, b: Batch, state: Mapping[str, Any]) -> NDArray[Any]:
    """The classes and onsets the side's sampler draws for the batch from the stream ``state``."""
    rng = np.random.default_rng()
    rng.bit_generator.state = state
    melody, decoder = pitch_to_class(b.soprano), side.config.decoder
    if isinstance(side, Trainer):
        classes, struck = numpy_sample_voices(
            side.generator, melody, b.onset, b.offset, rng, decoder
        )
    else:
        classes, struck = sample_voices(
            side.generator, melody, b.onset, b.offset, rng, decoder, dtype=side.dtype
        )
    return np.stack([classes, struck])


def _gradients(side: Side) -> dict[str, NDArray[Any]]:
    """Every parameter's gradient, numpy's layout, under ``generator.`` or ``discriminator.``."""
    found: dict[str, NDArray[Any]] = {}
    if isinstance(side, Trainer):
        for prefix, module in (
            ("generator", side.generator),
            ("discriminator", side.discriminator),
        ):
            for name, parameter in module.named_parameters().items():
                found[f"{prefix}.{name}"] = parameter.grad.copy()
        return found
    for prefix, twin in (("generator", side.generator), ("discriminator", side.discriminator)):
        for name, tensor in twin.named_parameters():
            found[f"{prefix}.{name}"] = torch_gradient(tensor).copy()
    return found


def run_step(side: Side, data: TrainingData) -> StepResult:
    """The side's next step, after probing its outputs and sampler on that step's batch.

    The probes draw from a copy of the side's stream, so the step itself draws as always.
    """
    rng = np.random.default_rng()
    rng.bit_generator.state = side.rng.bit_generator.state
    b = draw_batch(side.config, rng, data)
    adversarial = side.config.adversarial(side.step)
    fakes = _fakes(side, b, rng.bit_generator.state) if adversarial else None
    outputs = _outputs(side, b)
    losses = np.array(side.train_step(data), np.float64)
    return StepResult(outputs, fakes, losses, _gradients(side))


def float64_trainer(config: TrainConfig, seed: int) -> Trainer:
    """A fresh numpy trainer whose networks and optimisers compute in float64."""
    trainer = Trainer(config, seed)
    trainer.generator.astype(np.float64)
    trainer.discriminator.astype(np.float64)
    trainer.opt_g = nn.Adam(trainer.generator.parameters(), lr=config.lr_g, betas=config.betas_g)
    trainer.opt_d = nn.Adam(
        trainer.discriminator.parameters(), lr=config.lr_d, betas=config.betas_d
    )
    trainer.ema = nn.ExponentialMovingAverage(trainer.generator, decay=config.ema_decay)
    return trainer


def trainer_at(config: TrainConfig, seed: int, kind: str, *, exact: bool = False) -> Trainer:
    """A fresh trainer (float64 if ``exact``) whose next step is the first of ``kind``."""
    trainer = float64_trainer(config, seed) if exact else Trainer(config, seed)
    trainer.step = first_step(config, kind)
    return trainer


def compare_steps(
    reference: Trainer, twin: TwinTrainer, data: TrainingData
) -> dict[str, Differences]:
    """Two steps each, starting one step before the game: a cross-entropy, then an adversarial."""
    found: dict[str, Differences] = {}
    for kind in STEP_KINDS:
        if reference.config.adversarial(reference.step) != (kind == "adversarial"):
            msg = f"the step after {reference.step} is not {kind}: start one step before the game"
            raise ValueError(msg)
        found[kind] = Differences.between(run_step(reference, data), run_step(twin, data))
    return found


def check_twin(config: TrainConfig, seed: int, data: TrainingData) -> TwinCheck:
    """Prove the twin computes what the numpy code computes, from fresh trainers of ``config``.

    In float64, where rounding cannot hide a wrong formula, both start at the last
    cross-entropy step of the schedule, so the two steps compared are one of each kind, the
    second from the weights, optimiser state, average and stream the first left.

    In float32, the precision both are timed in, a step of each kind from a fresh trainer,
    with numpy's float64 step from the same state for scale (see
    :data:`GRADIENT_TOLERANCE`). Only a fresh step: after an Adam update in float32,
    gradients that are rounding noise have become whole steps of the learning rate's size,
    so a second step would compare two networks that differ by more than the tolerance.

    Raises ``AssertionError`` past the tolerances, if the samplers drew different notes, or
    if the parameter counts differ.
    """
    exact = trainer_at(config, seed, "adversarial", exact=True)
    exact.step -= 1  # the last cross-entropy step
    float32: dict[str, Differences] = {}
    numpy_float32: dict[str, Differences] = {}
    for kind in STEP_KINDS:
        timed = trainer_at(config, seed, kind)
        timed_twin = TwinTrainer(timed)
        reference = run_step(trainer_at(config, seed, kind, exact=True), data)
        ours = run_step(timed, data)
        float32[kind] = Differences.between(ours, run_step(timed_twin, data))
        numpy_float32[kind] = Differences.between(ours, reference)
    check = TwinCheck(
        g_parameters=(timed.generator.n_parameters(), n_parameters(timed_twin.generator)),
        d_parameters=(timed.discriminator.n_parameters(), n_parameters(timed_twin.discriminator)),
        float64=compare_steps(exact, TwinTrainer(exact, torch.float64), data),
        float32=float32,
        numpy_float32=numpy_float32,
    )
    if not check.passed:
        msg = f"the PyTorch twin does not compute what the numpy network does. {check.summary()}"
        raise AssertionError(msg)
    return check
