"""Floating-point operations of a numpy training step, counted from its layers as they run.

:func:`counting` instruments every :class:`~gan_music.nn.Conv1d` and
:class:`~gan_music.nn.Linear` inside the networks it is given: each forward pass, input
gradient and parameter gradient adds the operations of its matrix product,
``2 * rows * inputs * outputs`` (one multiply and one add per term), where ``inputs *
outputs`` is the size of the layer's weight (``kernel_size * in_channels * out_channels``
for a convolution) and ``rows`` are the rows of the batch the layer actually received
(``batch * steps`` for a convolution). So the count follows the step as it runs, not as
someone remembers it: the generator's teacher-forced pass over the batch (twice the batch
in an adversarial step, Bach's windows and the fakes), the input gradient of the history's
first layer that the step skips, the discriminator's update on real and fake windows (only
when its loss is above the floor), its frozen pass that scores the fakes, and whatever a
later version of the step does.

**The sampler.** An adversarial step first writes its fakes with
:func:`gan_music.decode.sample_voices`, one step at a time. Its melody features and its voice
heads go through the layers' own forward passes and are counted as they run, at the rows
each call has (the batch, at every step). The causal history layers it runs step by step
with their weights directly (``h @ weight[tap]``), not through their forward pass: those
products are **computed from the layers' shapes** and the batch and steps of each
``sample_voices`` call the step makes (seen by wrapping ``gan_music.train``'s reference to
it while counting): the history's lift on every step, and each tap of a causal layer on
every step from the one its delay first reaches. A step that should have sampled and did
not pass through the wrapper stops the count instead of coming out short.

Only the matrix products are counted. Bias additions, activations, the col2im additions of a
convolution's backward pass, losses, sampling, the relation keys and the optimiser are
elementwise or index work, and not what a GFLOP/s figure compares. The relation table
(:class:`~gan_music.nn.TableSum`) has a parameter but multiplies nothing (a gather and a sum
forward, a ``bincount`` back): it is allowed explicitly and listed with 0 operations. A layer
with parameters of any other kind is refused, so a new layer type cannot slip past the count.

>>> import numpy as np
>>> from gan_music import nn
>>> layer = nn.Linear(3, 2, rng=np.random.default_rng(0))
>>> with counting({"head": layer}) as count:
...     out = layer(np.ones((4, 3), np.float32))
...     _ = layer.backward(np.ones_like(out))
>>> count.by_layer["head"]
{'forward': 48, 'input gradient': 48, 'weight gradient': 48}
>>> count.total, "forward" in vars(layer)
(144, False)
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from gan_music import nn
from gan_music.decode import DecoderConfig
from gan_music.models import Generator
from gan_music.train import TrainConfig, Trainer, TrainingData

#: The module whose ``sample_voices`` the training step calls (``gan_music.train`` as an
#: attribute of the package may be its ``train`` function, which the package exports).
TRAINING: Any = importlib.import_module("gan_music.train")
#: The layers whose products are counted: each keeps its weight as (..., inputs, outputs).
COUNTED = (nn.Conv1d, nn.Linear)
#: Layers with parameters but no matrix product: listed with 0 operations.
NO_PRODUCTS = (nn.TableSum,)
KINDS = ("forward", "input gradient", "weight gradient")
#: The two kinds of training step, in the order a run takes them.
STEP_KINDS = ("cross-entropy", "adversarial")


@dataclass
class FlopCount:
    """Floating-point operations by layer (dotted path) and kind (:data:`KINDS`).

    ``sampler`` is the part of the total spent inside ``sample_voices`` (all forward), and
    ``samples`` how many times it was called.
    """

    by_layer: dict[str, dict[str, int]] = field(default_factory=dict)
    sampler: int = 0
    samples: int = 0

    def add(self, layer: str, kind: str, flops: int) -> None:
        """Add ``flops`` operations of ``kind`` to ``layer``."""
        kinds = self.by_layer.setdefault(layer, dict.fromkeys(KINDS, 0))
        kinds[kind] += flops

    @property
    def total(self) -> int:
        """Every counted operation."""
        return sum(sum(kinds.values()) for kinds in self.by_layer.values())

    def network(self, prefix: str) -> int:
        """The operations of the layers under ``prefix`` (``"generator"``, say)."""
        return sum(
            sum(kinds.values())
            for name, kinds in self.by_layer.items()
            if name == prefix or name.startswith(prefix + ".")
        )


def named_modules(module: nn.Module, prefix: str) -> Iterator[tuple[str, nn.Module]]:
    """``module`` and every module inside it, with dotted paths starting at ``prefix``."""
    yield prefix, module
    for name, child in module.children():
        yield from named_modules(child, f"{prefix}.{name}")


def _rows(array: Any) -> int:
    """Rows of a channels-last array: every axis but the last multiplied together."""
    return int(array.size // array.shape[-1])


def _instrument(layer: nn.Conv1d | nn.Linear, name: str, count: FlopCount) -> None:
    """Shadow the layer's methods with counting ones (instance attributes, removed after)."""
    per_row = 2 * int(layer.weight.data.size)  # a multiply and an add per weight, per row
    forward, backward = layer.forward, layer.backward

    def counted_forward(x: nn.Array) -> nn.Array:
        count.add(name, "forward", per_row * _rows(x))
        return forward(x)

    def counted_backward(grad_out: nn.Array) -> nn.Array:
        count.add(name, "input gradient", per_row * _rows(grad_out))
        if not layer.frozen:
            count.add(name, "weight gradient", per_row * _rows(grad_out))
        return backward(grad_out)

    methods: dict[str, Callable[..., Any]] = {
        "forward": counted_forward,
        "backward": counted_backward,
    }
    if isinstance(layer, nn.Conv1d):
        parameters_only = layer.backward_parameters_only

        def counted_parameters_only(grad_out: nn.Array) -> None:
            count.add(name, "weight gradient", per_row * _rows(grad_out))
            parameters_only(grad_out)

        methods["backward_parameters_only"] = counted_parameters_only
    vars(layer).update(methods)


def sampler_products(generator: Generator, rows: int, steps: int, prefix: str) -> dict[str, int]:
    """The products ``sample_voices`` computes with the causal layers' weights directly.

    ``rows`` pieces (the batch, times the drafts) of ``steps`` steps: the history's lift
    (kernel 1) on every step; tap ``j`` of a causal layer of kernel ``k`` reads the step
    ``(k - 1 - j) * dilation`` back, so it runs on every step from that one on.
    """
    lift = generator.history_lift
    found = {f"{prefix}.history_lift": 2 * rows * steps * int(lift.weight.data.size)}
    for index, block in enumerate(generator.history):
        conv = block.conv
        kernel, c_in, c_out = conv.weight.shape
        taps = sum(max(0, steps - (kernel - 1 - j) * conv.dilation) for j in range(kernel))
        found[f"{prefix}.history.{index}.conv"] = 2 * rows * taps * c_in * c_out
    return found


@contextlib.contextmanager
def _counting_sampler(networks: Mapping[str, nn.Module], count: FlopCount) -> Iterator[None]:
    """Wrap ``gan_music.train.sample_voices`` to add the products it makes outside the layers."""
    sample = TRAINING.sample_voices

    def counted_sample_voices(generator: Generator, soprano: Any, *args: Any, **kwargs: Any) -> Any:
        prefix = next((name for name, net in networks.items() if net is generator), None)
        if prefix is None:
            msg = "sample_voices ran a generator that is not being counted"
            raise ValueError(msg)
        call = inspect.signature(sample).bind(generator, soprano, *args, **kwargs)
        call.apply_defaults()
        config: DecoderConfig = call.arguments["config"]
        drafts = config.drafts if call.arguments["critic"] is not None else 1
        before = count.total
        for layer, flops in sampler_products(
            generator, soprano.shape[0] * max(1, drafts), soprano.shape[1], prefix
        ).items():
            count.add(layer, "forward", flops)
        result = sample(generator, soprano, *args, **kwargs)
        count.sampler += count.total - before
        count.samples += 1
        return result

    TRAINING.sample_voices = counted_sample_voices
    try:
        yield
    finally:
        TRAINING.sample_voices = sample


@contextlib.contextmanager
def counting(networks: Mapping[str, nn.Module]) -> Iterator[FlopCount]:
    """Count the products of every layer of ``networks`` (keyed by name) within the block.

    Also counts what ``sample_voices``, called through ``gan_music.train``, computes with a
    counted generator's causal layers directly (see the module's docstring). Raises
    ``ValueError`` if a module owns parameters but is neither a counted layer type nor one of
    :data:`NO_PRODUCTS`.
    """
    count = FlopCount()
    patched: list[nn.Module] = []
    try:
        for prefix, network in networks.items():
            for name, module in named_modules(network, prefix):
                if isinstance(module, COUNTED):
                    _instrument(module, name, count)
                    patched.append(module)
                elif isinstance(module, NO_PRODUCTS):
                    count.by_layer.setdefault(name, dict.fromkeys(KINDS, 0))
                elif any(isinstance(v, nn.Parameter) for v in vars(module).values()):
                    msg = (
                        f"{name} ({type(module).__name__}) has parameters but is neither "
                        "Conv1d nor Linear nor TableSum: teach benchmarks/flops.py the "
                        "products it computes"
                    )
                    raise ValueError(msg)
        with _counting_sampler(networks, count):
            yield count
    finally:
        for module in patched:
            for method in ("forward", "backward", "backward_parameters_only"):
                vars(module).pop(method, None)


def train_step_flops(trainer: Trainer, data: TrainingData) -> FlopCount:
    """The operations of one ``trainer.train_step(data)`` (which it runs: use a spare trainer).

    The step is of whichever kind the trainer's schedule has next.
    """
    networks = {"generator": trainer.generator, "discriminator": trainer.discriminator}
    adversarial = trainer.config.adversarial(trainer.step)
    with counting(networks) as count:
        trainer.train_step(data)
    if adversarial and not count.samples:
        msg = (
            "the adversarial step wrote its fakes without gan_music.train.sample_voices: "
            "teach benchmarks/flops.py how it samples now"
        )
        raise ValueError(msg)
    return count


def first_step(config: TrainConfig, kind: str) -> int:
    """The first step of ``config``'s schedule of ``kind`` (one of :data:`STEP_KINDS`)."""
    adversarial = STEP_KINDS.index(kind) == 1
    for step in range(config.steps):
        if config.adversarial(step) == adversarial:
            return step
    msg = f"the schedule of {config.steps} steps has no {kind} step"
    raise ValueError(msg)


def schedule_shares(config: TrainConfig) -> dict[str, float]:
    """The share of each kind of step (:data:`STEP_KINDS`) in ``config``'s schedule."""
    adversarial = sum(config.adversarial(step) for step in range(config.steps))
    return {
        "cross-entropy": (config.steps - adversarial) / config.steps,
        "adversarial": adversarial / config.steps,
    }


def step_flops(config: TrainConfig, seed: int, data: TrainingData) -> dict[str, FlopCount]:
    """The operations of the first step of each kind, each run on a fresh trainer of ``config``."""
    counts = {}
    for kind in STEP_KINDS:
        trainer = Trainer(config, seed)
        trainer.step = first_step(config, kind)
        counts[kind] = train_step_flops(trainer, data)
    return counts
