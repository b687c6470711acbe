"""A learned table read by integer keys: ``out[..., j] = sum_f table[keys[..., f, j]]``.

The layer holds one vector of ``size`` learned numbers plus one more, fixed at zero, at index
``size`` (:attr:`TableSum.zero`): a key that points there adds nothing. Its input is an integer
array of keys ``(..., slots, width)``; its output sums the table's entries over the slots,
``(..., width)``. It is an embedding whose rows are single numbers, summed: the bias that a
log-linear model adds to a class's score for each feature the class has.

Keys are not differentiable, so ``backward`` returns no input gradient; it writes the table's
gradient, the sum of the output gradients that read each entry (one ``np.bincount``).

>>> import numpy as np
>>> table = TableSum(4)
>>> table.table.data[:4] = [1.0, 2.0, 3.0, 4.0]
>>> keys = np.array([[[0, 1, 4], [3, 3, 4]]])  # one row, two slots, three outputs
>>> table(keys).tolist()
[[5.0, 6.0, 0.0]]
>>> table.backward(np.array([[1.0, 10.0, 100.0]]))
>>> table.table.grad.tolist()
[1.0, 10.0, 0.0, 11.0, 0.0]
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike, NDArray

from gan_music.nn.module import Array, Module, Parameter


class TableSum(Module):
    """``(..., slots, width)`` integer keys -> ``(..., width)`` sums of learned table entries."""

    def __init__(self, size: int, *, dtype: DTypeLike = np.float32) -> None:
        self.table = Parameter(np.zeros(size + 1, dtype))  # starts at zero: no opinion yet
        self.size = size
        self._keys: NDArray[np.integer] | None = None

    @property
    def zero(self) -> int:
        """The key of the entry fixed at zero."""
        return self.size

    def extra_repr(self) -> str:
        return f"{self.size}"

    def forward(self, x: Array) -> Array:
        self._keys = x
        result: Array = self.table.data[x].sum(axis=-2)
        return result

    def backward(self, grad_out: Array) -> None:  # type: ignore[override]
        """Write the table's gradient; keys have none, so nothing is returned."""
        if self._keys is None:
            msg = "backward called before forward"
            raise RuntimeError(msg)
        if self.frozen:
            return
        keys = self._keys
        spread = np.broadcast_to(np.expand_dims(grad_out, -2), keys.shape)
        grad = np.bincount(keys.ravel(), weights=spread.ravel(), minlength=self.size + 1)
        self.table.grad[...] = grad[: self.size + 1]
        self.table.grad[self.zero] = 0.0
