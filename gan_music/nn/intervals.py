"""Voice-pair interval features: for every pair of voices, which interval (mod 12) sounds.

Parallel fifths and octaves are a relation *between* voices, which a discriminator that
sees each voice's pitches separately learns slowly. This layer hands it the relation
directly. Its input is per-voice one-hots ``(batch, steps, voices, 49)`` (48 pitches from
MIDI 36 upward, then rest): real voices, or the straight-through samples of the generator.
With ``c`` a voice's chroma (its 48 pitch entries folded into 12 pitch classes, rest
ignored), the feature of an (upper, lower) pair is the bilinear form
``f[k] = sum_a c_upper[a] * c_lower[(a - k) mod 12]``: for one-hots, a one-hot of the
interval class between the two voices, all zero if either rests.

Because the inputs are one-hots, the forward pass reads the interval off the two argmaxes
instead of forming all 144 products per pair, and the backward pass, the exact gradient of
the bilinear form at that point, is a gather: ``df/dc_upper[a] = g[(a - b) mod 12]`` where
``b`` is the lower voice's pitch class, and symmetrically for the lower voice.

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
    """One-hots ``(batch, steps, voices, 49) -> (batch, steps, pairs * 12)``, pairs (upper, lower)."""

    def __init__(self, n_voices: int = 4, n_pitches: int = 48) -> None:
        self.pairs = list(itertools.combinations(range(n_voices), 2))
        self.n_pitches = n_pitches
        self._pitch_class: Array | None = None
        self._sounding: Array | None = None
        self._shape: tuple[int, ...] = ()

    def forward(self, x: Array) -> Array:
        batch, steps = x.shape[:2]
        classes = x.argmax(axis=-1)
        sounding = classes < self.n_pitches
        pitch_class = classes % PITCH_CLASSES
        self._pitch_class, self._sounding, self._shape = pitch_class, sounding, x.shape
        features = np.zeros((batch, steps, len(self.pairs), PITCH_CLASSES), x.dtype)
        for p, (upper, lower) in enumerate(self.pairs):
            interval = (pitch_class[:, :, upper] - pitch_class[:, :, lower]) % PITCH_CLASSES
            both = (sounding[:, :, upper] & sounding[:, :, lower]).astype(x.dtype)
            np.put_along_axis(features[:, :, p], interval[..., None], both[..., None], axis=-1)
        return features.reshape(batch, steps, -1)

    def backward(self, grad_out: Array) -> Array:
        if self._pitch_class is None or self._sounding is None:
            msg = "backward called before forward"
            raise RuntimeError(msg)
        pitch_class, sounding = self._pitch_class, self._sounding
        batch, steps, voices, _ = self._shape
        grad = grad_out.reshape(batch, steps, len(self.pairs), PITCH_CLASSES)
        grad_chroma = np.zeros((batch, steps, voices, PITCH_CLASSES), grad_out.dtype)
        a = np.arange(PITCH_CLASSES)
        for p, (upper, lower) in enumerate(self.pairs):
            from_lower = (a - pitch_class[:, :, lower, None]) % PITCH_CLASSES
            grad_chroma[:, :, upper] += (
                np.take_along_axis(grad[:, :, p], from_lower, axis=-1)
                * (sounding[:, :, lower, None])
            )
            from_upper = (pitch_class[:, :, upper, None] - a) % PITCH_CLASSES
            grad_chroma[:, :, lower] += (
                np.take_along_axis(grad[:, :, p], from_upper, axis=-1)
                * (sounding[:, :, upper, None])
            )
        grad_x = np.zeros(self._shape, grad_out.dtype)
        octaves = self.n_pitches // PITCH_CLASSES
        view = grad_x[..., : self.n_pitches].reshape(batch, steps, voices, octaves, PITCH_CLASSES)
        view[...] = grad_chroma[:, :, :, None, :]
        return grad_x
