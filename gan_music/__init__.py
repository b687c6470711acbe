"""gan_music: a small GAN, in numpy alone, that writes alto, tenor and bass for a melody.

The heavy parts (MIDI through mido, pictures through matplotlib, the network itself) are
imported only when first used, so ``import gan_music`` stays fast and needs nothing but numpy.

>>> import gan_music
>>> gan_music.VOICES
('soprano', 'alto', 'tenor', 'bass')
>>> melody = gan_music.Score.from_notes(16, [(0, 0, 8, 72), (0, 8, 8, 71)], n_voices=1)
>>> harmony = gan_music.load_model().harmonise(melody, seed=0)
>>> harmony.n_voices, harmony.n_steps
(4, 16)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gan_music.pianoroll import LOWEST_PITCH, N_PITCHES, REST, STEPS_PER_BAR, VOICES, Score

if TYPE_CHECKING:
    from gan_music.evaluate import evaluate
    from gan_music.generate import Harmoniser, load_model
    from gan_music.midi import (
        Melody,
        example_melody,
        read_melody,
        read_score,
        write_harmony,
        write_score,
    )
    from gan_music.plot import plot_comparison, plot_losses, plot_pianoroll, save_figure
    from gan_music.train import train

# The public API: each name and the module that defines it, imported on first use (PEP 562).
_LAZY = {
    "load_model": "gan_music.generate",
    "Harmoniser": "gan_music.generate",
    "train": "gan_music.train",
    "evaluate": "gan_music.evaluate",
    "Melody": "gan_music.midi",
    "read_melody": "gan_music.midi",
    "example_melody": "gan_music.midi",
    "write_harmony": "gan_music.midi",
    "read_score": "gan_music.midi",
    "write_score": "gan_music.midi",
    "plot_pianoroll": "gan_music.plot",
    "plot_comparison": "gan_music.plot",
    "plot_losses": "gan_music.plot",
    "save_figure": "gan_music.plot",
}

__all__ = [
    "LOWEST_PITCH",
    "N_PITCHES",
    "REST",
    "STEPS_PER_BAR",
    "VOICES",
    "Harmoniser",
    "Melody",
    "Score",
    "__version__",
    "evaluate",
    "example_melody",
    "load_model",
    "plot_comparison",
    "plot_losses",
    "plot_pianoroll",
    "read_melody",
    "read_score",
    "save_figure",
    "train",
    "write_harmony",
    "write_score",
]


def __getattr__(name: str) -> Any:
    # PEP 562: called only for names not found in the module, so each submodule is imported
    # the first time one of its names is used, and the version is read from the installed
    # metadata only when asked for (pyproject.toml stays the one place that holds it).
    if name == "__version__":
        from importlib.metadata import version

        return version("binomial-gan-music")
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | {"__version__"})
