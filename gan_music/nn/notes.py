"""Straight-through note samples: what the discriminator is shown of the generator's output.

For every lower voice and step the generator gives 50 logits: strike one of 48 pitches, rest,
or hold the note being played. The package's decoder reads them as notes, and the samples
the discriminator judges are drawn the same way, so it is trained on output shaped like what
the package ships (notes that last, re-strikes, 16ths where the model strikes), not on
per-step samples that flicker:

1. at every step draw one of the 50 classes from ``softmax(logits / T)`` (``T`` is
   ``temperature``, the decoder's); at the window's first step, where there is nothing to
   hold, a drawn hold takes the best other class instead and shows no onset (a note that
   began before the window);
2. a step that draws hold sounds what the step before it sounds; any other step sounds its
   own draw and shows an onset flag if that is a pitch.

Forward gives class one-hots (49: the pitches and rest) and the onset flag, ``(batch, steps,
voices, 50)``. Backward is the straight-through estimate through ``softmax((logits / T + g)
/ tau)``: a step's class gradient goes to the class it sounds at the step that drew it, and
(the gradient of every class, as straight-through estimates do), and its onset flag, relaxed
as ``1 - soft[hold]``, sends its gradient to its own hold class.

>>> import numpy as np
>>> logits = np.full((1, 4, 1, 4), -9.0)  # strike class 0 or 1, rest (2), hold (3)
>>> logits[0, [0, 3], 0, 0] = 9.0  # class 0 struck at steps 0 and 3,
>>> logits[0, [1, 2], 0, 3] = 9.0  # held in between
>>> out = StraightThroughNotes(np.random.default_rng(0), temperature=0.1)(logits)
>>> out[0, :, 0, :3].argmax(-1).tolist(), out[0, :, 0, 3].tolist()
([0, 0, 0, 0], [1.0, 0.0, 0.0, 1.0])
"""

from __future__ import annotations

import numpy as np

from gan_music.nn.gumbel import gumbel_noise
from gan_music.nn.module import Array, Module


class StraightThroughNotes(Module):
    """``(b, s, v, c + 1)`` logits (c classes, then hold) to class one-hots and onset flags.

    Class ``c - 1`` is the rest: a rest never shows an onset.
    """

    def __init__(
        self, rng: np.random.Generator, temperature: float = 0.5, tau: float = 1.0
    ) -> None:
        self.rng = rng
        self.temperature = temperature
        self.tau = tau
        self._soft: Array | None = None
        self._source: Array | None = None
        self._flag_mask: Array | None = None

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, tau={self.tau}"

    def forward(self, x: Array) -> Array:
        steps, hold = x.shape[1], x.shape[-1] - 1
        perturbed = x / np.float32(self.temperature)
        perturbed += gumbel_noise(self.rng, x.shape, x.dtype)
        drawn = perturbed.argmax(axis=-1)
        held = drawn == hold
        drawn[:, 0] = perturbed[:, 0, :, :hold].argmax(axis=-1)  # nothing to hold yet
        step_index = np.arange(steps)[None, :, None]
        source = np.maximum.accumulate(np.where(held, 0, step_index), axis=1)
        sounded = np.take_along_axis(drawn, source, axis=1)
        mask = (sounded != hold - 1).astype(x.dtype)  # a pitch sounds (not the rest)
        out = np.zeros_like(x)
        np.put_along_axis(out[..., :hold], sounded[..., None], 1.0, axis=-1)
        out[..., hold] = ~held * mask
        soft = perturbed / np.float32(self.tau)
        soft -= soft.max(axis=-1, keepdims=True)
        np.exp(soft, out=soft)
        soft /= soft.sum(axis=-1, keepdims=True)
        self._soft, self._source, self._flag_mask = soft, source, mask
        return out

    def backward(self, grad_out: Array) -> Array:
        if self._soft is None or self._source is None or self._flag_mask is None:
            msg = "backward called before forward"
            raise RuntimeError(msg)
        soft, source = self._soft, self._source
        batch, steps, voices, outputs = soft.shape
        hold = outputs - 1
        # Each step's class gradient lands on the class it sounds, at the step that drew it.
        row = (np.arange(batch)[:, None, None] * steps + source) * voices
        row = row + np.arange(voices)[None, None, :]
        upstream = np.zeros((batch * steps * voices, outputs), grad_out.dtype)
        np.add.at(upstream[:, :hold], row.ravel(), grad_out[..., :hold].reshape(-1, hold))
        upstream = upstream.reshape(soft.shape)
        upstream[..., hold] -= grad_out[..., hold] * self._flag_mask  # flag = 1 - soft[hold]
        inner = (upstream * soft).sum(axis=-1, keepdims=True)
        scale = np.float32(1.0 / (self.tau * self.temperature))
        grad: Array = soft * (upstream - inner) * scale
        return grad
