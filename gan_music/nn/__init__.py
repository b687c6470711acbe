"""A small neural-network library in numpy alone: just the layers the GAN needs.

Each layer lives in its own file and has an explicit ``forward`` (``layer(x)``) and
``backward(grad_out)``; arrays are channels-last ``(batch, steps, channels)`` and float32
unless built with another dtype (the tests check gradients in float64).

>>> import numpy as np
>>> from gan_music import nn
>>> rng = np.random.default_rng(0)
>>> conv, act = nn.Conv1d(4, 8, 3, dilation=2, rng=rng), nn.LeakyReLU(0.2)
>>> y = act(conv(rng.standard_normal((2, 16, 4)).astype(np.float32)))
>>> y.shape, y.dtype.name
((2, 16, 8), 'float32')
>>> conv.backward(act.backward(np.ones_like(y))).shape
(2, 16, 4)
"""

from __future__ import annotations

from gan_music.nn.activations import LeakyReLU
from gan_music.nn.adam import Adam
from gan_music.nn.conv1d import Conv1d
from gan_music.nn.ema import ExponentialMovingAverage
from gan_music.nn.gumbel import gumbel_noise
from gan_music.nn.linear import Linear
from gan_music.nn.lookup import TableSum
from gan_music.nn.losses import (
    binary_cross_entropy_with_logits,
    log_softmax,
    mean_probability,
    softmax_cross_entropy,
)
from gan_music.nn.module import Array, Module, Parameter, Workspace, frozen
from gan_music.nn.pooling import MeanOverTime

__all__ = [
    "Adam",
    "Array",
    "Conv1d",
    "ExponentialMovingAverage",
    "LeakyReLU",
    "Linear",
    "MeanOverTime",
    "Module",
    "Parameter",
    "TableSum",
    "Workspace",
    "binary_cross_entropy_with_logits",
    "frozen",
    "gumbel_noise",
    "log_softmax",
    "mean_probability",
    "softmax_cross_entropy",
]
