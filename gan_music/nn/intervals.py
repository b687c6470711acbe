"""Voice-pair interval features: for every pair of voices, which interval (mod 12) sounds.

Parallel fifths and octaves are a relation *between* voices, which a discriminator that
sees each voice's pitches separately learns slowly. This layer hands it the relation
directly. Its input is per-voice class scores ``(batch, steps, voices, 49)`` (48 pitches
from MIDI 36 upward, then rest); each voice's chroma ``c`` (the 48 pitches folded into 12
pitch classes, rest ignored) is paired with every lower voice's, giving
``f[k] = sum_a c_upper[a] * c_lower[(a - k) mod 12]``: for one-hot inputs, a one-hot of the
interval class between the two voices (all zero if either rests).

>>> import numpy as np
>>> x = np.zeros((1, 1, 2, 49)); x[0, 0, 0, 31] = 1; x[0, 0, 1, 24] = 1  # G4 over C4
>>> VoicePairIntervals(2)(x)[0, 0].nonzero()[0].tolist()
[7]
"""

from __future__ import annotations

import itertools

import numpy as np

from gan_music.nn.module import Array, Module

PITCH_CLASSES = 12


class VoicePairIntervals(Module):
    """``(batch, steps, voices, 49) -> (batch, steps, pairs * 12)``, pairs in (upper, lower) order."""

    def __init__(self, n_voices: int = 4, n_pitches: int = 48) -> None:
        self.pairs = list(itertools.combinations(range(n_voices), 2))
        self.n_pitches = n_pitches
        a = np.arange(PITCH_CLASSES)
        self.lower_index = (a[None, :] - a[:, None]) % PITCH_CLASSES  # [k, a] = (a - k) % 12
        self.upper_index = (a[None, :] + a[:, None]) % PITCH_CLASSES  # [k, b] = (b + k) % 12
        self._chroma: Array | None = None
        self._shape: tuple[int, ...] = ()

    def forward(self, x: Array) -> Array:
        batch, steps, voices, _ = x.shape
        octaves = self.n_pitches // PITCH_CLASSES
        pitches = x[..., : self.n_pitches].reshape(batch, steps, voices, octaves, PITCH_CLASSES)
        chroma = pitches.sum(axis=3)
        self._chroma, self._shape = chroma, x.shape
        features = np.empty((batch, steps, len(self.pairs), PITCH_CLASSES), x.dtype)
        for p, (upper, lower) in enumerate(self.pairs):
            shifted = chroma[:, :, lower][..., self.lower_index]  # (batch, steps, k, a)
            np.einsum("bta,btka->btk", chroma[:, :, upper], shifted, out=features[:, :, p])
        return features.reshape(batch, steps, -1)

    def backward(self, grad_out: Array) -> Array:
        if self._chroma is None:
            msg = "backward called before forward"
            raise RuntimeError(msg)
        chroma = self._chroma
        batch, steps, voices, _ = self._shape
        grad = grad_out.reshape(batch, steps, len(self.pairs), PITCH_CLASSES)
        grad_chroma = np.zeros_like(chroma)
        for p, (upper, lower) in enumerate(self.pairs):
            lower_shifted = chroma[:, :, lower][..., self.lower_index]
            grad_chroma[:, :, upper] += np.einsum("btk,btka->bta", grad[:, :, p], lower_shifted)
            upper_shifted = chroma[:, :, upper][..., self.upper_index]
            grad_chroma[:, :, lower] += np.einsum("btk,btkc->btc", grad[:, :, p], upper_shifted)
        grad_x = np.zeros(self._shape, grad_out.dtype)
        octaves = self.n_pitches // PITCH_CLASSES
        grad_x[..., : self.n_pitches].reshape(batch, steps, voices, octaves, PITCH_CLASSES)[...] = (
            grad_chroma[:, :, :, None, :]
        )
        return grad_x
