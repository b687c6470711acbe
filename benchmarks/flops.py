"""Floating-point operations of a numpy training step, counted from its layers as they run.

:func:`counting` instruments every :class:`~gan_music.nn.Conv1d` and
:class:`~gan_music.nn.Linear` inside the networks it is given: each forward pass, input
gradient and parameter gradient adds the operations of its matrix product,
``2 * rows * inputs * outputs`` (one multiply and one add per term), where ``inputs *
outputs`` is the size of the layer's weight (``kernel_size * in_channels * out_channels``
for a convolution) and ``rows`` are the rows of the batch the layer actually received
(``batch * steps`` for a convolution). So the count follows the step as it runs, not as
someone remembers it: the discriminator's double batch of real and fake windows, the input
gradient its first layer skips, the weight gradients the frozen discriminator skips during
the generator's update, and whatever a later version of the step does.

Only the matrix products are counted. Bias additions, activations, the col2im additions of a
convolution's backward pass, losses, sampling and the optimiser are elementwise work, a few
per cent of the operations, and not what a GFLOP/s figure compares. A layer with parameters
of any other kind is refused, so a new layer type cannot slip past the count.

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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from gan_music import nn
from gan_music.train import Trainer, TrainingData

#: The layers whose products are counted: each keeps its weight as (..., inputs, outputs).
COUNTED = (nn.Conv1d, nn.Linear)
KINDS = ("forward", "input gradient", "weight gradient")


@dataclass
class FlopCount:
    """Floating-point operations by layer (dotted path) and kind (:data:`KINDS`)."""

    by_layer: dict[str, dict[str, int]] = field(default_factory=dict)

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


@contextlib.contextmanager
def counting(networks: Mapping[str, nn.Module]) -> Iterator[FlopCount]:
    """Count the products of every layer of ``networks`` (keyed by name) within the block.

    Raises ``ValueError`` if a module owns parameters but is not a counted layer type.
    """
    count = FlopCount()
    patched: list[nn.Module] = []
    try:
        for prefix, network in networks.items():
            for name, module in named_modules(network, prefix):
                if isinstance(module, COUNTED):
                    _instrument(module, name, count)
                    patched.append(module)
                elif any(isinstance(v, nn.Parameter) for v in vars(module).values()):
                    msg = (
                        f"{name} ({type(module).__name__}) has parameters but is neither "
                        "Conv1d nor Linear: teach benchmarks/flops.py the products it computes"
                    )
                    raise ValueError(msg)
        yield count
    finally:
        for module in patched:
            for method in ("forward", "backward", "backward_parameters_only"):
                vars(module).pop(method, None)


def train_step_flops(trainer: Trainer, data: TrainingData) -> FlopCount:
    """The operations of one ``trainer.train_step(data)`` (which it runs: use a spare trainer)."""
    networks = {"generator": trainer.generator, "discriminator": trainer.discriminator}
    with counting(networks) as count:
        trainer.train_step(data)
    return count
