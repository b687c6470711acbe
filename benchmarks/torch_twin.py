"""The numpy GAN's twin in PyTorch: the same layers, weights, losses, optimiser and step.

The twin is built *from a numpy network*: every convolution and linear layer takes its
sizes, dilation and weights from the numpy layer it mirrors, and its parameters carry the
same dotted names (``blocks.3.conv.weight``), so a change to the model's configuration
reaches the twin by itself, and a change to its structure makes :func:`copy_weights` fail
by name. :func:`check_twin` then proves the two compute the same thing: forward outputs,
every loss of one training step and every parameter's gradient, on the same inputs.

Written as a PyTorch user would: channels-first ``torch.nn.Conv1d`` with ``padding="same"``
(which pads like the numpy layer: half the receptive field on the left, the rest on the
right), autograd everywhere, straight-through Gumbel samples (one class per step and voice,
as the numpy step draws them: a drawn hold sounds the step before) with the hard sample
forward and the soft gradient back, ``torch.optim.Adam`` in its fused CPU
form (the fastest of its three implementations here),
and the discriminator's parameters switched off with ``requires_grad_(False)`` during the
generator's update, as the numpy code skips them with ``frozen``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from torch import nn as tnn

from gan_music import nn
from gan_music.models import (
    HOLD_CLASS,
    N_ACCOMPANIMENT,
    N_CLASSES,
    N_OUTPUTS,
    REST_CLASS,
    Discriminator,
    Generator,
    generator_inputs,
    voice_inputs,
    voice_inputs_from_classes,
)
from gan_music.train import TrainConfig, Trainer, TrainingData

#: Largest float32 difference allowed between numpy and the twin, relative to each array's
#: largest magnitude: sums taken in another order differ by 1e-7 to 1e-6, more where a
#: gradient is a small sum of large terms of both signs (a bias gradient, for instance).
TOLERANCE = 1e-4


def twin_conv(layer: nn.Conv1d) -> tnn.Conv1d:
    """A ``torch.nn.Conv1d`` with the numpy layer's sizes, dilation and "same" padding."""
    kernel, c_in, c_out = layer.weight.shape
    if layer.pad_left != layer.dilation * (kernel - 1) // 2:
        msg = f"the numpy convolution pads {layer.pad_left} steps on the left, not 'same' padding"
        raise ValueError(msg)
    return tnn.Conv1d(c_in, c_out, kernel, dilation=layer.dilation, padding="same")


def twin_linear(layer: nn.Linear) -> tnn.Linear:
    """A ``torch.nn.Linear`` with the numpy layer's sizes."""
    c_in, c_out = layer.weight.shape
    return tnn.Linear(c_in, c_out)


def to_torch_layout(array: NDArray[Any]) -> NDArray[Any]:
    """A numpy weight in PyTorch's layout: conv (k, in, out) -> (out, in, k); linear transposed."""
    return np.ascontiguousarray(array.T)


class TwinResidualBlock(tnn.Module):
    """``x + leaky_relu(conv(x))``, channels first."""

    def __init__(self, block: Any, slope: float) -> None:
        super().__init__()
        self.conv = twin_conv(block.conv)
        self.slope = slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = x + F.leaky_relu(self.conv(x), self.slope)
        return out


class TwinGenerator(tnn.Module):
    """The generator: ``(batch, steps, channels)`` inputs to ``(batch, steps, 3, 50)`` logits."""

    def __init__(self, generator: Generator) -> None:
        super().__init__()
        self.slope = generator.config.slope
        self.lift = twin_conv(generator.lift)
        self.blocks = tnn.ModuleList(
            TwinResidualBlock(block, block.act.slope) for block in generator.blocks
        )
        self.head = twin_conv(generator.head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.lift(x.transpose(1, 2))
        for block in self.blocks:
            h = block(h)
        logits: torch.Tensor = self.head(F.leaky_relu(h, self.slope)).transpose(1, 2)
        return logits.reshape(*logits.shape[:2], N_ACCOMPANIMENT, N_OUTPUTS)


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
        return torch.einsum("btpa,btpka->btpk", upper, lower).reshape(batch, steps, -1)


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


@dataclass(frozen=True)
class Batch:
    """One step's inputs, drawn exactly as ``Trainer.train_step`` draws them."""

    x: torch.Tensor
    soprano: torch.Tensor
    outputs: torch.Tensor
    real: torch.Tensor
    gumbel: torch.Tensor


class TwinTrainer:
    """The numpy ``Trainer``'s step in PyTorch, starting from a numpy trainer's exact state."""

    def __init__(self, trainer: Trainer, dtype: torch.dtype = torch.float32) -> None:
        self.config = trainer.config
        self.dtype = dtype
        self.generator = TwinGenerator(trainer.generator).to(dtype)
        self.discriminator = TwinDiscriminator(trainer.discriminator).to(dtype)
        copy_weights(trainer.generator, self.generator)
        copy_weights(trainer.discriminator, self.discriminator)
        cfg = trainer.config
        self.opt_g = torch.optim.Adam(
            self.generator.parameters(), lr=cfg.lr_g, betas=cfg.betas, eps=trainer.opt_g.eps,
            fused=True,
        )  # fmt: skip
        self.opt_d = torch.optim.Adam(
            self.discriminator.parameters(), lr=cfg.lr_d, betas=cfg.betas, eps=trainer.opt_d.eps,
            fused=True,
        )  # fmt: skip
        self.ema_decay = trainer.ema.decay
        self.ema_updates = trainer.ema.updates
        self.ema = [p.detach().clone() for p in self.generator.parameters()]
        self.tau = trainer.sampler.tau
        self.rng = np.random.default_rng()
        self.rng.bit_generator.state = trainer.rng.bit_generator.state

    def draw_batch(self, data: TrainingData) -> Batch:
        """The batch, noise and Gumbel noise, from the same random stream in the same order."""
        cfg, rng = self.config, self.rng
        batch = rng.integers(0, len(data), cfg.batch_size)
        noise = rng.standard_normal((cfg.batch_size, cfg.model.noise_dim), dtype=np.float32)
        x = generator_inputs(data.soprano[batch], data.onset[batch], data.bar_offset[batch], noise)
        shape = (cfg.batch_size, x.shape[1], N_ACCOMPANIMENT, N_OUTPUTS)
        gumbel = nn.gumbel_noise(rng, shape, np.float32)
        targets = data.targets[batch].astype(np.int64)
        onsets = data.target_onsets[batch]
        return Batch(
            x=torch.from_numpy(x).to(self.dtype),
            soprano=torch.from_numpy(voice_inputs(data.soprano[batch], data.onset[batch])).to(
                self.dtype
            ),
            outputs=torch.from_numpy(data.outputs[batch].astype(np.int64)),
            real=torch.from_numpy(voice_inputs_from_classes(targets, onsets)).to(self.dtype),
            gumbel=torch.from_numpy(gumbel).to(self.dtype),
        )

    def sample_notes(self, logits: torch.Tensor, b: Batch) -> torch.Tensor:
        """The fakes: a class drawn at every step, a drawn hold sounding the step before."""
        perturbed = logits / self.config.sample_temperature + b.gumbel
        drawn = perturbed.argmax(dim=-1)
        held = drawn == HOLD_CLASS
        drawn[:, 0] = perturbed[:, 0, :, :HOLD_CLASS].argmax(dim=-1)  # nothing to hold yet
        steps = torch.arange(logits.shape[1])[None, :, None]
        source = torch.cummax(torch.where(held, 0, steps), dim=1).values
        sounded = drawn.gather(1, source)
        soft = torch.softmax(perturbed / self.tau, dim=-1)
        soft_sounded = soft.gather(1, source[..., None].expand(-1, -1, -1, N_OUTPUTS))
        soft_classes = soft_sounded[..., :N_CLASSES]
        hard = F.one_hot(sounded, N_CLASSES).to(soft.dtype)
        # hard forward, soft backward: the probabilities at the step that drew the class
        classes = hard - soft_classes.detach() + soft_classes
        sounding = (sounded != REST_CLASS).to(soft.dtype)
        relaxed = 1.0 - soft[..., HOLD_CLASS]
        flag = (~held).to(soft.dtype) * sounding + (relaxed - relaxed.detach()) * sounding
        return torch.cat([classes, flag[..., None]], dim=-1)

    def train_step(self, data: TrainingData) -> tuple[float, ...]:
        """One discriminator and one generator update; the same loss components as numpy's."""
        cfg, b = self.config, self.draw_batch(data)
        logits = self.generator(b.x)
        soprano = b.soprano[:, :, None]
        fake = torch.cat([soprano, self.sample_notes(logits, b)], dim=2)
        real = torch.cat([soprano, b.real], dim=2)

        scores = self.discriminator(torch.cat([real, fake.detach()]))
        real_scores, fake_scores = scores[: cfg.batch_size], scores[cfg.batch_size :]
        d_real = F.binary_cross_entropy_with_logits(real_scores, torch.ones_like(real_scores))
        d_fake = F.binary_cross_entropy_with_logits(fake_scores, torch.zeros_like(fake_scores))
        if float((d_real + d_fake).detach()) >= cfg.d_loss_floor:  # as numpy: rest a winning critic
            self.opt_d.zero_grad()
            torch.autograd.backward(d_real + d_fake)
            self.opt_d.step()

        self.discriminator.requires_grad_(False)
        fooled = self.discriminator(fake)
        g_adv = F.binary_cross_entropy_with_logits(fooled, torch.ones_like(fooled))
        g_ce = F.cross_entropy(logits.reshape(-1, N_OUTPUTS), b.outputs.reshape(-1))
        g_loss = cfg.adv_weight * g_adv + cfg.ce_weight * g_ce
        self.opt_g.zero_grad()
        torch.autograd.backward(g_loss)
        self.opt_g.step()
        self.discriminator.requires_grad_(True)
        self._update_average()
        values = (g_loss, d_real + d_fake, g_adv, g_ce, d_real, d_fake)
        return tuple(float(v.detach()) for v in values)

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
class Differences:
    """The largest relative differences between numpy and the twin, by kind."""

    outputs: float
    losses: float
    gradients: float
    compared: int

    @property
    def worst(self) -> float:
        """The largest of the three."""
        return max(self.outputs, self.losses, self.gradients)

    def __str__(self) -> str:
        return (
            f"outputs {self.outputs:.1e}, losses {self.losses:.1e}, "
            f"gradients {self.gradients:.1e} over {self.compared} arrays"
        )


@dataclass(frozen=True)
class TwinCheck:
    """The parameter counts of both, and how far apart they are in float64 and float32."""

    g_parameters: tuple[int, int]
    d_parameters: tuple[int, int]
    float64: Differences
    float32: Differences

    def summary(self) -> str:
        """A sentence for the report."""
        return (
            f"Parameters: generator {self.g_parameters[0]:,} (numpy) and "
            f"{self.g_parameters[1]:,} (PyTorch), discriminator {self.d_parameters[0]:,} and "
            f"{self.d_parameters[1]:,}. Twin check on one batch and one training step, largest "
            f"relative difference in float64: {self.float64}, tolerance {TOLERANCE_FLOAT64:.0e}; "
            f"in float32, as timed: {self.float32}, tolerance {TOLERANCE:.0e}."
        )


#: In float64 both sides round so little that any real difference in the computation shows.
TOLERANCE_FLOAT64 = 1e-9


def compare_step(trainer: Trainer, twin: TwinTrainer, data: TrainingData) -> Differences:
    """Forward outputs on one batch, then one training step each: losses and all gradients."""
    probe = TwinTrainer(trainer, twin.dtype).draw_batch(data)  # from a copy of the stream
    real = torch.cat([probe.soprano[:, :, None], probe.real], dim=2)
    with torch.no_grad():
        outputs = [
            (trainer.generator(probe.x.numpy()).copy(), twin.generator(probe.x)),
            (trainer.discriminator(real.numpy()).copy(), twin.discriminator(real)),
        ]
    output_diff = max(relative_difference(a, b.numpy()) for a, b in outputs)
    numpy_losses = np.array(trainer.train_step(data))
    twin_losses = np.array(twin.train_step(data))
    loss_diff = float(np.max(np.abs(numpy_losses - twin_losses) / np.abs(numpy_losses)))
    gradient_diff, compared = 0.0, len(outputs) + 1
    for numpy_module, twin_module in (
        (trainer.generator, twin.generator),
        (trainer.discriminator, twin.discriminator),
    ):
        theirs = dict(twin_module.named_parameters())
        for name, parameter in numpy_module.named_parameters().items():
            difference = relative_difference(parameter.grad, torch_gradient(theirs[name]))
            gradient_diff = max(gradient_diff, difference)
            compared += 1
    return Differences(output_diff, loss_diff, gradient_diff, compared)


def float64_trainer(config: TrainConfig, seed: int) -> Trainer:
    """A fresh numpy trainer whose networks and optimisers compute in float64."""
    trainer = Trainer(config, seed)
    trainer.generator.astype(np.float64)
    trainer.discriminator.astype(np.float64)
    betas = config.betas
    trainer.opt_g = nn.Adam(trainer.generator.parameters(), lr=config.lr_g, betas=betas)
    trainer.opt_d = nn.Adam(trainer.discriminator.parameters(), lr=config.lr_d, betas=betas)
    trainer.ema = nn.ExponentialMovingAverage(trainer.generator, decay=config.ema_decay)
    return trainer


def check_twin(config: TrainConfig, seed: int, data: TrainingData) -> TwinCheck:
    """Prove the twin computes what the numpy code computes, from fresh trainers of ``config``.

    In float64, where rounding cannot hide a wrong formula, and in float32, the precision
    both are timed in. Raises ``AssertionError`` past the tolerances or if the parameter
    counts differ.
    """
    exact = float64_trainer(config, seed)
    exact_twin = TwinTrainer(exact, torch.float64)
    timed = Trainer(config, seed)
    timed_twin = TwinTrainer(timed)
    check = TwinCheck(
        g_parameters=(timed.generator.n_parameters(), n_parameters(timed_twin.generator)),
        d_parameters=(timed.discriminator.n_parameters(), n_parameters(timed_twin.discriminator)),
        float64=compare_step(exact, exact_twin, data),
        float32=compare_step(timed, timed_twin, data),
    )
    if (
        check.g_parameters[0] != check.g_parameters[1]
        or check.d_parameters[0] != check.d_parameters[1]
    ):
        msg = f"parameter counts differ. {check.summary()}"
        raise AssertionError(msg)
    if check.float64.worst > TOLERANCE_FLOAT64 or check.float32.worst > TOLERANCE:
        msg = f"the PyTorch twin does not compute what the numpy network does. {check.summary()}"
        raise AssertionError(msg)
    return check
