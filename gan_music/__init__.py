"""gan_music: a small GAN, in numpy alone, that writes alto, tenor and bass for a melody.

The heavy parts (MIDI through mido, pictures through matplotlib) are imported only
where they are used, so ``import gan_music`` stays fast and needs nothing but numpy.

>>> import gan_music
>>> gan_music.VOICES
('soprano', 'alto', 'tenor', 'bass')
"""

from __future__ import annotations

from gan_music.pianoroll import LOWEST_PITCH, N_PITCHES, REST, STEPS_PER_BAR, VOICES, Score

__all__ = ["LOWEST_PITCH", "N_PITCHES", "REST", "STEPS_PER_BAR", "VOICES", "Score", "__version__"]


def __getattr__(name: str) -> str:
    # PEP 562: the version is read from the installed metadata only when asked for,
    # so the import stays fast and pyproject.toml stays the one place that holds it.
    if name == "__version__":
        from importlib.metadata import version

        return version("binomial-gan-music")
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
