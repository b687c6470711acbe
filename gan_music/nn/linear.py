"""A fully connected layer on the last axis: ``y = x @ weight + bias``.

>>> import numpy as np
>>> layer = Linear(3, 2, rng=np.random.default_rng(0))
>>> layer(np.ones((4, 3), np.float32)).shape
(4, 2)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from gan_music.nn.module import Array, Module, Parameter


class Linear(Module):
    """``(..., in_features) -> (..., out_features)``; the weight has shape (in, out)."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        rng: np.random.Generator,
        gain: float = 1.0,
        dtype: DTypeLike = np.float32,
    ) -> None:
        bound = gain * (3.0 / in_features) ** 0.5
        weight = rng.uniform(-bound, bound, (in_features, out_features))
        self.weight = Parameter(weight.astype(dtype))
        self.bias = Parameter(np.zeros(out_features, dtype))
        self._x: Array | None = None

    def extra_repr(self) -> str:
        return f"{self.weight.shape[0]}, {self.weight.shape[1]}"

    def forward(self, x: Array) -> Array:
        self._x = x.reshape(-1, x.shape[-1])
        out = self._x @ self.weight.data
        out += self.bias.data
        result: Array = out.reshape(*x.shape[:-1], -1)
        return result

    def backward(self, grad_out: Array) -> Array:
        if self._x is None:
            msg = "backward called before forward"
            raise RuntimeError(msg)
        grad2d = grad_out.reshape(-1, grad_out.shape[-1])
        if not self.frozen:
            np.matmul(self._x.T, grad2d, out=self.weight.grad)
            grad2d.sum(axis=0, out=self.bias.grad)
        grad_x = grad2d @ self.weight.data.T
        result: Array = grad_x.reshape(*grad_out.shape[:-1], -1)
        return result
