"""An exponential moving average of a network's weights, used for sampling.

GAN weights wander from step to step; their running average makes smoother, more
reliable outputs than the last iterate (the generator is never trained through it).
Early on the decay is warmed up, ``min(decay, (1 + n) / (10 + n))`` after ``n`` updates, so
the average forgets the random initial weights within the first few hundred steps.

>>> import numpy as np
>>> from gan_music.nn.linear import Linear
>>> net = Linear(1, 1, rng=np.random.default_rng(0))
>>> ema = ExponentialMovingAverage(net, decay=0.5)
>>> net.weight.data[...] += 2.0
>>> before = ema.shadow["weight"].copy()
>>> ema.update()  # the warm-up decay, 1/10, is in force
>>> round(float(ema.shadow["weight"][0, 0] - before[0, 0]), 6)
1.8
"""

from __future__ import annotations

from gan_music.nn.module import Array, Module


class ExponentialMovingAverage:
    """``shadow = decay * shadow + (1 - decay) * weights`` after each update."""

    def __init__(self, module: Module, *, decay: float = 0.999) -> None:
        self.module = module
        self.decay = decay
        self.updates = 0
        self.shadow: dict[str, Array] = module.state_dict()

    def update(self) -> None:
        """Move the average one step toward the current weights."""
        decay = min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))
        self.updates += 1
        for name, parameter in self.module.named_parameters().items():
            average = self.shadow[name]
            average -= (1.0 - decay) * (average - parameter.data)
