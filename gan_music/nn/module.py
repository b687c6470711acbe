"""The base every layer and network builds on: parameters with gradients, forward and backward.

Like micrograd's ``Module``, a network is a composition of smaller modules, and
``module(x)`` runs the forward pass. Unlike micrograd there is no autograd graph: each
module caches, during ``forward``, what its own ``backward`` needs, and ``backward(grad_out)``
returns the gradient with respect to the input while *writing* (not adding) the gradients of
the module's parameters. So the rule is one ``forward``, then at most one ``backward``.

>>> import numpy as np
>>> class Scale(Module):
...     def __init__(self) -> None:
...         self.gain = Parameter(np.array([2.0]))
...     def forward(self, x):
...         self.x = x
...         return x * self.gain.data
...     def backward(self, grad_out):
...         self.gain.grad[...] = (grad_out * self.x).sum()
...         return grad_out * self.gain.data
>>> layer = Scale()
>>> layer(np.array([1.0, 3.0])).tolist()
[2.0, 6.0]
>>> layer.backward(np.ones(2)).tolist(), layer.gain.grad.tolist()
([2.0, 2.0], [4.0])
>>> sorted(layer.state_dict())
['gain']
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

if TYPE_CHECKING:
    from typing_extensions import Self  # only for the checker: typing has it from 3.11

Array = NDArray[Any]


class Parameter:
    """A trainable array and its gradient, which has the same shape and dtype."""

    __slots__ = ("data", "grad")

    def __init__(self, data: Array) -> None:
        self.data = np.ascontiguousarray(data)
        self.grad = np.zeros_like(self.data)

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of the array."""
        return tuple(self.data.shape)

    def __repr__(self) -> str:
        return f"Parameter(shape={self.shape}, dtype={self.data.dtype})"


class Module:
    """A layer or network: ``__call__`` is ``forward``; ``backward`` returns the input gradient.

    Parameters and sub-modules are found by looking at the instance's attributes, in the
    order they were assigned, so a subclass only has to assign them in ``__init__``.
    Setting ``frozen = True`` (see :func:`gan_music.nn.frozen`) makes layers skip the work of
    computing their parameter gradients while still passing the input gradient back.
    """

    frozen: bool = False

    def forward(self, x: Any) -> Array:
        """Compute the output and cache what ``backward`` will need (``x`` is usually an array)."""
        raise NotImplementedError

    def backward(self, grad_out: Array) -> Array:
        """Write the parameters' gradients and return the gradient with respect to the input."""
        raise NotImplementedError

    def __call__(self, x: Any) -> Array:
        return self.forward(x)

    def children(self) -> Iterator[tuple[str, Module]]:
        """The direct sub-modules with their attribute names (lists are numbered)."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for index, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{name}.{index}", item

    def modules(self) -> Iterator[Module]:
        """This module and every module inside it, depth first."""
        yield self
        for _, child in self.children():
            yield from child.modules()

    def named_parameters(self, prefix: str = "") -> dict[str, Parameter]:
        """Every parameter inside, keyed by its dotted path, e.g. ``blocks.0.conv.weight``."""
        found: dict[str, Parameter] = {}
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                found[prefix + name] = value
        for name, child in self.children():
            found.update(child.named_parameters(f"{prefix}{name}."))
        return found

    def parameters(self) -> list[Parameter]:
        """Every parameter inside, in a fixed order."""
        return list(self.named_parameters().values())

    def n_parameters(self) -> int:
        """How many numbers the module learns."""
        return sum(p.data.size for p in self.parameters())

    def zero_grad(self) -> None:
        """Set every gradient to zero."""
        for parameter in self.parameters():
            parameter.grad.fill(0)

    def state_dict(self) -> dict[str, Array]:
        """Copies of the parameter arrays, keyed by their dotted path."""
        return {name: p.data.copy() for name, p in self.named_parameters().items()}

    def load_state_dict(self, state: Mapping[str, Array]) -> None:
        """Copy arrays into the parameters; keys and shapes must match exactly."""
        own = self.named_parameters()
        missing = sorted(set(own) - set(state))
        extra = sorted(set(state) - set(own))
        if missing or extra:
            msg = f"state does not match the module: missing {missing}, unexpected {extra}"
            raise KeyError(msg)
        for name, parameter in own.items():
            value = np.asarray(state[name])
            if value.shape != parameter.data.shape:
                msg = f"{name} has shape {value.shape}, expected {parameter.data.shape}"
                raise ValueError(msg)
            parameter.data[...] = value

    def astype(self, dtype: DTypeLike) -> Self:
        """Convert every parameter (and its gradient) to ``dtype`` in place; returns ``self``."""
        for parameter in self.parameters():
            parameter.data = parameter.data.astype(dtype)
            parameter.grad = np.zeros_like(parameter.data)
        return self

    def __repr__(self) -> str:
        inner = "".join(
            f"\n  ({name}): {child!r}".replace("\n", "\n  ") for name, child in self.children()
        )
        return f"{type(self).__name__}({self.extra_repr()}{inner}{chr(10) if inner else ''})"

    def extra_repr(self) -> str:
        """The layer's own settings, shown by ``repr``."""
        return ""


class Workspace:
    """Arrays kept between calls so the hot loop allocates nothing: one per name, shape and dtype.

    Only the ``keep`` most recently created shapes of each name are kept (training needs two:
    the discriminator sees batches of two sizes), so running on pieces of many different
    lengths does not pile up memory.

    >>> space = Workspace()
    >>> a = space.get("cols", (2, 3), np.float32)
    >>> a is space.get("cols", (2, 3), np.float32), a is space.get("cols", (4, 3), np.float32)
    (True, False)
    >>> _ = space.get("cols", (5, 3), np.float32)
    >>> a is space.get("cols", (2, 3), np.float32)
    False
    """

    def __init__(self, keep: int = 2) -> None:
        self.keep = keep
        self._arrays: dict[tuple[str, tuple[int, ...], np.dtype[Any]], Array] = {}

    def get(
        self, name: str, shape: tuple[int, ...], dtype: DTypeLike, *, zeros: bool = False
    ) -> Array:
        """The array for ``name`` of this shape and dtype; new ones are zero-filled if ``zeros``."""
        key = (name, tuple(shape), np.dtype(dtype))
        array = self._arrays.get(key)
        if array is None:
            same_name = [k for k in self._arrays if k[0] == name]
            for old in same_name[: max(0, len(same_name) - self.keep + 1)]:
                del self._arrays[old]  # dicts keep insertion order: the oldest go first
            array = np.zeros(shape, dtype) if zeros else np.empty(shape, dtype)
            self._arrays[key] = array
        return array


@contextlib.contextmanager
def frozen(module: Module) -> Iterator[Module]:
    """Within the block, ``module`` passes gradients back to its input but skips its own.

    Used for the generator's update, which needs the discriminator's input gradient only.

    >>> from gan_music.nn import Linear
    >>> layer = Linear(2, 1, rng=np.random.default_rng(0))
    >>> with frozen(layer):
    ...     out = layer(np.ones((1, 2), np.float32))
    ...     grad_in = layer.backward(np.ones_like(out))
    >>> grad_in.shape, float(np.abs(layer.weight.grad).sum()), layer.frozen
    ((1, 2), 0.0, False)
    """
    inside = list(module.modules())
    before = [m.frozen for m in inside]
    for m in inside:
        m.frozen = True
    try:
        yield module
    finally:
        for m, was in zip(inside, before, strict=True):
            m.frozen = was
