"""Harmonising a melody: load a trained generator, run it over the piece, decode the notes.

>>> import numpy as np
>>> from gan_music.pianoroll import Score
>>> melody = Score.from_notes(32, [(0, 0, 8, 72), (0, 8, 8, 71), (0, 16, 16, 72)], n_voices=1)
>>> harmony = load_model().harmonise(melody, seed=0)
>>> harmony.n_voices, harmony.n_steps, bool((harmony.pitch[:, 0] == melody.pitch[:, 0]).all())
(4, 32, True)
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.resources
import os
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gan_music.baselines import check_melody
from gan_music.checkpoint import Checkpoint, check_shapes, load_checkpoint
from gan_music.decode import DecoderConfig, NoteScores, beam_search, best_lines
from gan_music.errors import CheckpointError, GanMusicError
from gan_music.models import (
    N_ACCOMPANIMENT,
    N_OUTPUTS,
    Generator,
    ModelConfig,
    generator_inputs,
)
from gan_music.pianoroll import (
    LOWEST_PITCH,
    N_PITCHES,
    REST,
    STEPS_PER_BAR,
    STEPS_PER_BEAT,
    Score,
    beat_steps,
)

MAX_TEMPERATURE = 10.0  #: the largest decoder temperature ``harmonise`` accepts
SOPRANO_CENTRE = 69  #: MIDI A4, near the middle of the chorale sopranos (57-81)
HIGHEST_PITCH = LOWEST_PITCH + N_PITCHES - 1


class Harmoniser:
    """A trained generator plus the decoder: writes alto, tenor and bass under a melody."""

    def __init__(self, generator: Generator, decoder: DecoderConfig = DecoderConfig()) -> None:  # noqa: B008
        self.generator = generator
        self.config = generator.config
        self.decoder = decoder
        self.chunk_steps = 4096  #: long pieces run in chunks (with overlap) to bound memory

    def __repr__(self) -> str:
        params = self.generator.n_parameters()
        return f"Harmoniser(generator of {params:,} parameters, {self.decoder})"

    def harmonise(
        self,
        melody: Score,
        *,
        seed: int | None = None,
        steps_per_bar: int = STEPS_PER_BAR,
        first_downbeat: int = 0,
        steps_per_beat: int | None = None,
        temperature: float | None = None,
    ) -> Score:
        """A four-voice score: the melody unchanged as soprano, then alto, tenor and bass.

        The melody (one voice, any length and register) is moved by whole octaves to where
        the model's sopranos lie, and the accompaniment moved back by the same amount.
        ``steps_per_bar`` and ``first_downbeat`` (the step of the first bar line) place the
        beats; ``steps_per_beat`` is the beat in sixteenths (default: :func:`beat_steps`, 4
        in simple metres, 6 where the bar is whole dotted quarters and not 3/4-like).
        ``seed`` fixes the noise, so the same seed gives the same accompaniment.
        ``temperature`` scales the decoder's noise (default: the decoder's own, 0.5; 0 gives
        the highest-scoring accompaniment for the seed's noise vector).
        """
        metre = Metre(steps_per_bar, first_downbeat, steps_per_beat)
        decoder = self.decoder
        if temperature is not None:
            if isinstance(temperature, bool) or not 0 <= temperature <= MAX_TEMPERATURE:
                msg = (
                    f"temperature must be a number from 0 to {MAX_TEMPERATURE}, got {temperature!r}"
                )
                raise GanMusicError(msg)
            decoder = dataclasses.replace(decoder, temperature=float(temperature))
        return self._harmonise(melody, seed, metre, decoder)

    def network_alone(self) -> NetworkAlone:
        """The same generator without the decoder's search and penalties (for evaluation)."""
        return NetworkAlone(self.generator, self.decoder)

    def _decode(
        self,
        scores: NoteScores,
        melody: NDArray[np.int64],
        rng: np.random.Generator,
        decoder: DecoderConfig,
    ) -> tuple[NDArray[np.int16], NDArray[np.bool_]]:
        """Lower-voice pitches and onsets ``(steps, 3)`` from the network's scores."""
        return beam_search(scores, melody, rng, decoder)

    def _harmonise(
        self, melody: Score, seed: int | None, metre: Metre, decoder: DecoderConfig
    ) -> Score:
        check_melody(melody)
        steps_per_bar, first_downbeat = metre.steps_per_bar, metre.first_downbeat
        if steps_per_bar <= 0 or metre.beat <= 0:
            msg = f"steps_per_bar and steps_per_beat must be positive, got {steps_per_bar}, {metre.beat}"
            raise GanMusicError(msg)
        rng = np.random.default_rng(seed)
        pitch = melody.pitch[:, 0].astype(np.int64)
        shift = octave_shift(pitch)
        model_melody = fold_into_range(np.where(pitch == REST, REST, pitch + shift))
        scores = self.note_scores(
            model_melody,
            melody.onset[:, 0],
            rng=rng,
            steps_per_bar=steps_per_bar,
            first_downbeat=first_downbeat,
            steps_per_beat=metre.beat,
        )
        lower, lower_onset = self._decode(scores, model_melody, rng, decoder)
        lower = np.where(lower == REST, REST, _fold_midi(lower.astype(np.int64) - shift))
        out_pitch = np.concatenate([melody.pitch, lower.astype(np.int16)], axis=1)
        out_onset = np.concatenate([melody.onset, lower_onset], axis=1)
        return Score(out_pitch, out_onset)

    def note_scores(
        self,
        melody: NDArray[np.integer],
        onset: NDArray[np.bool_],
        *,
        rng: np.random.Generator,
        steps_per_bar: int = STEPS_PER_BAR,
        first_downbeat: int = 0,
        steps_per_beat: int = STEPS_PER_BEAT,
    ) -> NoteScores:
        """The network's strike, rest and hold log-probabilities for a melody already in its range."""
        noise = rng.standard_normal((1, self.config.noise_dim), dtype=np.float32)
        n_steps, halo = len(melody), self.generator.receptive_radius
        logits = np.empty((n_steps, N_ACCOMPANIMENT, N_OUTPUTS), np.float32)
        for start in range(0, n_steps, self.chunk_steps):
            stop = min(n_steps, start + self.chunk_steps)
            low, high = max(0, start - halo), min(n_steps, stop + halo)
            bar_offset = np.array([(low - first_downbeat) % steps_per_bar])
            x = generator_inputs(
                melody[None, low:high],
                onset[None, low:high],
                bar_offset,
                noise,
                steps_per_bar,
                steps_per_beat,
            )
            logits[start:stop] = self.generator(x)[0, start - low : stop - low]
        return NoteScores.from_logits(logits)


class NetworkAlone(Harmoniser):
    """A harmoniser's generator read by :func:`~gan_music.decode.best_lines`: each voice's most
    likely line alone, with no beam search across voices, no penalties for parallels, crossing
    or spacing, no noise, and rests allowed anywhere.

    It shows what the network itself has learned; the shipped :class:`Harmoniser` adds the
    decoder on top.

    >>> from gan_music.pianoroll import Score
    >>> melody = Score.from_notes(16, [(0, 0, 8, 72), (0, 8, 8, 74)], n_voices=1)
    >>> load_model().network_alone().harmonise(melody, seed=0).n_voices
    4
    """

    def _decode(
        self,
        scores: NoteScores,
        melody: NDArray[np.int64],  # noqa: ARG002  (the network alone never looks at it)
        rng: np.random.Generator,  # noqa: ARG002
        decoder: DecoderConfig,  # noqa: ARG002
    ) -> tuple[NDArray[np.int16], NDArray[np.bool_]]:
        return best_lines(scores)


class Metre:
    """Bar length, first bar line and beat length (in sixteenths) of a melody."""

    def __init__(self, steps_per_bar: int, first_downbeat: int, steps_per_beat: int | None) -> None:
        self.steps_per_bar = steps_per_bar
        self.first_downbeat = first_downbeat
        self.beat = beat_steps(steps_per_bar) if steps_per_beat is None else steps_per_beat


def octave_shift(pitch: NDArray[np.integer]) -> int:
    """Whole octaves (in semitones) that bring the melody's median pitch nearest the model's.

    >>> octave_shift(np.array([40, 43, -1, 45]))
    24
    """
    sounding = pitch[pitch != REST]
    if not len(sounding):
        return 0
    return 12 * round((SOPRANO_CENTRE - float(np.median(sounding))) / 12)


def fold_into_range(pitch: NDArray[np.integer]) -> NDArray[np.int64]:
    """Move each pitch outside MIDI 36..83 by octaves until it fits (rests stay rests)."""
    folded: NDArray[np.int64] = np.asarray(pitch, dtype=np.int64).copy()
    low = (folded != REST) & (folded < LOWEST_PITCH)
    folded[low] += 12 * -((folded[low] - LOWEST_PITCH) // 12)
    high = folded > HIGHEST_PITCH
    folded[high] -= 12 * -(-(folded[high] - HIGHEST_PITCH) // 12)
    return folded


def _fold_midi(pitch: NDArray[np.int64]) -> NDArray[np.int64]:
    """Keep pitches inside MIDI 0..127 by moving them by octaves."""
    out: NDArray[np.int64] = pitch.copy()
    out[out < 0] += 12 * -(out[out < 0] // 12)
    out[out > 127] -= 12 * -(-(out[out > 127] - 127) // 12)
    return out


def load_model(path: str | os.PathLike[str] | None = None) -> Harmoniser:
    """The harmoniser in ``path`` (a ``model.npz`` or a training checkpoint); default: the shipped one."""
    if path is None:
        return _shipped_model()
    return _load(Path(path))


@functools.cache
def _shipped_model() -> Harmoniser:
    resource = importlib.resources.files("gan_music") / "data" / "model.npz"
    with importlib.resources.as_file(resource) as shipped:
        return _load(shipped)


def _load(path: Path) -> Harmoniser:
    from gan_music.train import checkpoint_members

    checkpoint = load_checkpoint(path, expect=checkpoint_members)
    prefix = "g/" if checkpoint.kind == "model" else "ema/"
    return Harmoniser(generator_from(checkpoint, prefix))


def generator_from(checkpoint: Checkpoint, prefix: str) -> Generator:
    """Build the generator a checkpoint describes and fill it with the weights under ``prefix``."""
    try:
        config = ModelConfig.from_json(checkpoint.config)
        generator = Generator(config, rng=np.random.default_rng(0))
    except (ValueError, TypeError, KeyError) as error:
        msg = f"{checkpoint.path}: unreadable model configuration ({error}): the file is damaged"
        raise CheckpointError(msg) from None
    expected = {prefix + name: p.shape for name, p in generator.named_parameters().items()}
    check_shapes(checkpoint.path, checkpoint.arrays, expected)
    weights: dict[str, NDArray[Any]] = {
        name: checkpoint.arrays[prefix + name].astype(np.float32)
        for name in generator.named_parameters()
    }
    generator.load_state_dict(weights)
    return generator
