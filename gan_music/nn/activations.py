"""Leaky ReLU, applied in place: ``x`` if ``x > 0`` else ``slope * x`` (``slope=0`` is a ReLU).

The forward pass overwrites its input with ``x * scale``, where ``scale`` is 1 on positive
entries and ``slope`` elsewhere, and keeps ``scale`` for the backward pass (one multiply).
Plain multiplies beat numpy's masked ``where=`` ufuncs by an order of magnitude here.
The caller must not need the input afterwards.

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
        self._scale: Array | None = None

    def extra_repr(self) -> str:
        return f"slope={self.slope}"

    def forward(self, x: Array) -> Array:
        positive = self.workspace.get("positive", x.shape, np.bool_)
        scale = self.workspace.get("scale", x.shape, x.dtype)
        np.greater(x, 0, out=positive)
        np.multiply(positive, x.dtype.type(1.0 - self.slope), out=scale)
        np.add(scale, x.dtype.type(self.slope), out=scale)
        np.multiply(x, scale, out=x)
        self._scale = scale
        return x

    def backward(self, grad_out: Array) -> Array:
        if self._scale is None:
            msg = "backward called before forward"
            raise RuntimeError(msg)
        grad = self.workspace.get("grad", grad_out.shape, grad_out.dtype)
        np.multiply(grad_out, self._scale, out=grad)
        return grad
