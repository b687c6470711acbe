"""Straight-through Gumbel-softmax: hard one-hot samples that still pass gradients back.

The generator's output is a distribution over 49 classes per voice and step. Fed to the
discriminator as probabilities it would be trivially told apart from the real one-hots, so
the forward pass gives a *hard* one-hot of ``argmax(logits + gumbel noise)`` (a sample from
the softmax), while the backward pass uses the gradient of the soft version
``softmax((logits + noise) / tau)``.

>>> import numpy as np
>>> st = StraightThroughGumbel(tau=1.0)
>>> st(np.array([[0.0, 2.0, 1.0]])).tolist()
[[0.0, 1.0, 0.0]]
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from gan_music.nn.module import Array, Module


def gumbel_noise(rng: np.random.Generator, shape: tuple[int, ...], dtype: DTypeLike) -> Array:
    """Standard Gumbel samples ``-log(-log(u))``; adding them to logits and taking argmax samples."""
    u = rng.random(shape, dtype=np.float32)
    np.clip(u, 1e-20, 1.0 - 1e-7, out=u)
    return np.asarray(-np.log(-np.log(u)), dtype=dtype)


class StraightThroughGumbel(Module):
    """``forward(perturbed_logits)`` is a one-hot on the last axis; ``backward`` is the softmax's."""

    def __init__(self, tau: float = 1.0) -> None:
        self.tau = tau
        self._soft: Array | None = None

    def extra_repr(self) -> str:
        return f"tau={self.tau}"

    def forward(self, x: Array) -> Array:
        scaled = x / self.tau
        scaled -= scaled.max(axis=-1, keepdims=True)
        np.exp(scaled, out=scaled)
        scaled /= scaled.sum(axis=-1, keepdims=True)
        self._soft = scaled
        hard = np.zeros_like(x)
        np.put_along_axis(hard, x.argmax(axis=-1)[..., None], 1.0, axis=-1)
        return hard

    def backward(self, grad_out: Array) -> Array:
        if self._soft is None:
            msg = "backward called before forward"
            raise RuntimeError(msg)
        soft = self._soft
        inner = (grad_out * soft).sum(axis=-1, keepdims=True)
        grad: Array = soft * (grad_out - inner) / self.tau
        return grad
