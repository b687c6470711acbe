"""Straight-through note samples: what the discriminator is shown of the generator's output.

For every lower voice and step the generator gives 49 class logits (48 pitches, then rest)
and an onset logit. The package's decoder turns those into notes: a voice keeps its pitch
until a note starts, and only where a note starts may the pitch change. The samples the
discriminator judges are drawn by the same rule, so it is trained on output shaped like
what the package ships (notes that last, re-strikes, 16ths where the model puts onsets),
not on per-step samples that flicker:

1. at every step draw an onset, true with probability ``sigmoid(onset_logit / T)``, and a
   class from ``softmax(class_logits / T)`` (``T`` is ``temperature``, the decoder's);
2. each step sounds the class drawn at the last onset at or before it (the window's first
   step counts as one), and shows an onset flag where one was drawn and a pitch sounds.

Forward gives hard one-hots and flags ``(batch, steps, voices, 50)``. Backward is the
straight-through estimate: the hard sample goes forward, and the gradient comes back
through its relaxation, ``softmax(perturbed / tau)`` for the class, ``sigmoid(perturbed /
tau)`` for the onset. A step's class gradient goes to the softmax of the step whose draw it
sounds, the onset flag's to its own sigmoid.

>>> import numpy as np
>>> logits = np.full((1, 4, 1, 4), -9.0)  # 3 classes then the onset logit
>>> logits[0, :, 0, 0] = [9, -9, -9, 9]  # class 0 at steps 0 and 3,
>>> logits[0, :, 0, 1] = [-9, 9, 9, -9]  # class 1 at steps 1 and 2,
>>> logits[0, :, 0, 3] = [9, -9, -9, 9]  # but onsets only at steps 0 and 3
>>> out = StraightThroughNotes(np.random.default_rng(0), temperature=0.1)(logits)
>>> out[0, :, 0, :3].argmax(-1).tolist(), out[0, :, 0, 3].tolist()
([0, 0, 0, 0], [1.0, 0.0, 0.0, 1.0])
"""

from __future__ import annotations

import numpy as np

from gan_music.nn.gumbel import gumbel_noise
from gan_music.nn.module import Array, Module


class StraightThroughNotes(Module):
    """``(b, s, v, c + 1)`` logits to hard classes and onsets of the same shape, drawn with ``rng``.

    The last class (index ``c - 1``) is the rest: a rest never shows an onset.
    """

    def __init__(
        self, rng: np.random.Generator, temperature: float = 0.5, tau: float = 1.0
    ) -> None:
        self.rng = rng
        self.temperature = temperature
        self.tau = tau
        self._soft: Array | None = None
        self._onset_soft: Array | None = None
        self._source: Array | None = None
        self._flag_mask: Array | None = None

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, tau={self.tau}"

    def forward(self, logits: Array) -> Array:
        steps, outputs = logits.shape[1], logits.shape[-1]
        classes = outputs - 1
        scaled = logits / np.float32(self.temperature)
        perturbed = scaled[..., :classes] + gumbel_noise(
            self.rng, (*logits.shape[:3], classes), logits.dtype
        )
        u = self.rng.random(logits.shape[:3], dtype=np.float32)
        np.clip(u, 1e-7, 1.0 - 1e-7, out=u)
        u = u.astype(logits.dtype, copy=False)
        onset_perturbed = scaled[..., classes] + np.log(u) - np.log1p(-u)  # logistic noise
        drawn = onset_perturbed > 0
        drawn[:, 0] = True
        # The step whose draw each step sounds: the last onset at or before it.
        step_index = np.arange(steps)[None, :, None]
        source = np.maximum.accumulate(np.where(drawn, step_index, 0), axis=1)
        hard_class = np.take_along_axis(perturbed.argmax(axis=-1), source, axis=1)
        sounding = hard_class != classes - 1
        flag = (onset_perturbed > 0) & sounding
        out = np.zeros_like(logits)
        np.put_along_axis(out[..., :classes], hard_class[..., None], 1.0, axis=-1)
        out[..., classes] = flag
        soft = perturbed / np.float32(self.tau)
        soft -= soft.max(axis=-1, keepdims=True)
        np.exp(soft, out=soft)
        soft /= soft.sum(axis=-1, keepdims=True)
        self._soft = soft
        self._onset_soft = 1.0 / (1.0 + np.exp(-onset_perturbed / np.float32(self.tau)))
        self._source = source
        self._flag_mask = sounding.astype(logits.dtype)
        return out

    def backward(self, grad_out: Array) -> Array:
        if self._soft is None or self._onset_soft is None or self._source is None:
            msg = "backward called before forward"
            raise RuntimeError(msg)
        soft, source = self._soft, self._source
        batch, steps, voices, classes = soft.shape
        # Gather each step's class gradient onto the step whose draw it sounds.
        flat_source = (np.arange(batch)[:, None, None] * steps + source) * voices
        flat_source = flat_source + np.arange(voices)[None, None, :]
        gathered = np.zeros((batch * steps * voices, classes), grad_out.dtype)
        np.add.at(gathered, flat_source.ravel(), grad_out[..., :classes].reshape(-1, classes))
        gathered = gathered.reshape(soft.shape)
        inner = (gathered * soft).sum(axis=-1, keepdims=True)
        scale = np.float32(1.0 / (self.tau * self.temperature))
        grad = np.empty((*soft.shape[:3], classes + 1), grad_out.dtype)
        grad[..., :classes] = soft * (gathered - inner) * scale
        q = self._onset_soft
        grad[..., classes] = grad_out[..., classes] * self._flag_mask * q * (1.0 - q) * scale
        return grad
