"""Average over the steps axis: ``(batch, steps, channels) -> (batch, channels)``.

>>> import numpy as np
>>> pool = MeanOverTime()
>>> pool(np.arange(6.0).reshape(1, 3, 2)).tolist()
[[2.0, 3.0]]
"""

from __future__ import annotations

import numpy as np

from gan_music.nn.module import Array, Module


class MeanOverTime(Module):
    """Global average pooling over time, so the output does not depend on the piece's length."""

    def __init__(self) -> None:
        self._steps = 0

    def forward(self, x: Array) -> Array:
        self._steps = x.shape[1]
        mean: Array = x.mean(axis=1)
        return mean

    def backward(self, grad_out: Array) -> Array:
        share = grad_out / self._steps
        return np.broadcast_to(share[:, None, :], (share.shape[0], self._steps, share.shape[1]))
