"""Leaky ReLU, applied in place: ``x`` if ``x > 0`` else ``slope * x`` (``slope=0`` is a ReLU).

The forward pass overwrites its input and keeps only a boolean mask of the negative
entries, so the caller must not need the input afterwards.

>>> import numpy as np
>>> act = LeakyReLU(0.2)
>>> act(np.array([-1.0, 0.5])).tolist()
[-0.2, 0.5]
>>> act.backward(np.array([1.0, 1.0])).tolist()
[0.2, 1.0]
"""

from __future__ import annotations

import numpy as np

from gan_music.nn.module import Array, Module, Workspace


class LeakyReLU(Module):
    """Piecewise-linear activation with slope ``slope`` below zero, computed in place."""

    def __init__(self, slope: float = 0.2) -> None:
        self.slope = slope
        self.workspace = Workspace()
        self._negative: Array | None = None

    def extra_repr(self) -> str:
        return f"slope={self.slope}"

    def forward(self, x: Array) -> Array:
        negative = self.workspace.get("negative", x.shape, np.bool_)
        np.less(x, 0, out=negative)
        np.multiply(x, self.slope, out=x, where=negative)
        self._negative = negative
        return x

    def backward(self, grad_out: Array) -> Array:
        if self._negative is None:
            msg = "backward called before forward"
            raise RuntimeError(msg)
        grad = self.workspace.get("grad", grad_out.shape, grad_out.dtype)
        np.copyto(grad, grad_out)
        np.multiply(grad, self.slope, out=grad, where=self._negative)
        return grad
