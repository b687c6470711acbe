"""Gumbel noise: adding it to logits and taking the argmax draws a sample from their softmax.

The decoder (:mod:`gan_music.decode`) draws every move of every voice with it, from the
generator's scores divided by its temperature.

>>> import numpy as np
>>> noise = gumbel_noise(np.random.default_rng(0), (2, 3), np.float32)
>>> noise.shape, noise.dtype.name
((2, 3), 'float32')
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from gan_music.nn.module import Array


def gumbel_noise(rng: np.random.Generator, shape: tuple[int, ...], dtype: DTypeLike) -> Array:
    """Standard Gumbel samples ``-log(-log(u))``; adding them to logits and taking argmax samples."""
    u = rng.random(shape, dtype=np.float32)
    np.clip(u, 1e-20, 1.0 - 1e-7, out=u)
    return np.asarray(-np.log(-np.log(u)), dtype=dtype)
