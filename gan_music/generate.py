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
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from gan_music.baselines import check_melody
from gan_music.checkpoint import Checkpoint, check_shapes, load_checkpoint
from gan_music.dataset import class_to_pitch, pitch_to_class
from gan_music.decode import DecoderConfig, sample_voices
from gan_music.errors import CheckpointError, GanMusicError
from gan_music.models import Discriminator, Generator, ModelConfig, melody_inputs
from gan_music.pianoroll import (
    LOWEST_PITCH,
    N_PITCHES,
    REST,
    STEPS_PER_BAR,
    Score,
    beat_steps,
)

Network = TypeVar("Network", Generator, Discriminator)
MAX_TEMPERATURE = 10.0  #: the largest decoder temperature ``harmonise`` accepts
SOPRANO_CENTRE = 69  #: MIDI A4, near the middle of the chorale sopranos (57-81)
HIGHEST_PITCH = LOWEST_PITCH + N_PITCHES - 1


#: How the shipped model writes: its own distribution, parallels penalised, and four drafts
#: of which the discriminator keeps the best every four bars (when the model has one).
SHIPPED_DECODER = DecoderConfig(drafts=4)


class Harmoniser:
    """A trained generator plus the decoder (and the critic that picks among drafts, if any)."""

    def __init__(
        self,
        generator: Generator,
        decoder: DecoderConfig = SHIPPED_DECODER,
        critic: Discriminator | None = None,
    ) -> None:
        self.generator = generator
        self.config = generator.config
        self.decoder = decoder
        self.critic = critic
        self.chunk_steps = 4096  #: long melodies run through the melody blocks in chunks

    def __repr__(self) -> str:
        params = self.generator.n_parameters()
        critic = "with" if self.critic is not None else "without"
        return f"Harmoniser(generator of {params:,} parameters, {critic} a critic, {self.decoder})"

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
        ``seed`` fixes the random draws, so the same seed gives the same accompaniment.
        ``temperature`` scales them (default: the decoder's own, 1, the network's own
        distribution; 0 gives the network's most likely move at every step).
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

    def network_alone(self) -> Harmoniser:
        """The same generator and temperature, one draft, no penalty and no critic (for evaluation)."""
        alone = dataclasses.replace(self.decoder, parallel_penalty=0.0, drafts=1)
        return Harmoniser(self.generator, alone)

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
        onset = melody.onset[:, 0]
        bar_offset = np.array([-first_downbeat % steps_per_bar])
        features = self.melody_features(model_melody, onset, bar_offset, steps_per_bar, metre.beat)
        classes, lower_onset = sample_voices(
            self.generator,
            pitch_to_class(model_melody[None]),
            onset[None],
            bar_offset,
            rng,
            decoder,
            steps_per_bar=steps_per_bar,
            steps_per_beat=metre.beat,
            features=features,
            critic=self.critic,
        )
        lower = class_to_pitch(classes[0]).astype(np.int64)
        lower = np.where(lower == REST, REST, _fold_midi(lower - shift))
        out_pitch = np.concatenate([melody.pitch, lower.astype(np.int16)], axis=1)
        out_onset = np.concatenate([melody.onset, lower_onset[0]], axis=1)
        return Score(out_pitch, out_onset)

    def melody_features(
        self,
        melody: NDArray[np.integer],
        onset: NDArray[np.bool_],
        bar_offset: NDArray[np.integer],
        steps_per_bar: int,
        steps_per_beat: int,
    ) -> NDArray[np.float32]:
        """``(1, steps, channels)``: the melody blocks' view of a melody already in the model's range.

        Pieces longer than :attr:`chunk_steps` go through in chunks that overlap by the
        blocks' receptive radius, which gives the same features as one pass.
        """
        n_steps, halo = len(melody), self.generator.receptive_radius
        features = np.empty((1, n_steps, self.config.g_channels), np.float32)
        for start in range(0, n_steps, self.chunk_steps):
            stop = min(n_steps, start + self.chunk_steps)
            low, high = max(0, start - halo), min(n_steps, stop + halo)
            x = melody_inputs(
                melody[None, low:high],
                onset[None, low:high],
                (bar_offset + low) % steps_per_bar,
                steps_per_bar,
                steps_per_beat,
            )
            features[:, start:stop] = self.generator.melody_features(x)[:, start - low : stop - low]
        return features


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
    from gan_music.train import checkpoint_members, critic_played

    checkpoint = load_checkpoint(path, expect=checkpoint_members)
    if checkpoint.kind == "model":
        generator = generator_from(checkpoint, "g/")
        has_critic = any(name.startswith("d/") for name in checkpoint.arrays)
    else:
        generator = generator_from(checkpoint, "ema/")
        has_critic = critic_played(checkpoint.arrays.get("history", np.zeros((0, 8))))
    critic = _network_from(checkpoint, "d/", Discriminator) if has_critic else None
    return Harmoniser(generator, critic=critic)


def generator_from(checkpoint: Checkpoint, prefix: str) -> Generator:
    """Build the generator a checkpoint describes and fill it with the weights under ``prefix``."""
    return _network_from(checkpoint, prefix, Generator)


def _network_from(checkpoint: Checkpoint, prefix: str, kind: type[Network]) -> Network:
    try:
        config = ModelConfig.from_json(checkpoint.config)
        network = kind(config, rng=np.random.default_rng(0))
    except (ValueError, TypeError, KeyError) as error:
        msg = f"{checkpoint.path}: unreadable model configuration ({error}): the file is damaged"
        raise CheckpointError(msg) from None
    expected = {prefix + name: p.shape for name, p in network.named_parameters().items()}
    check_shapes(checkpoint.path, checkpoint.arrays, expected)
    weights: dict[str, NDArray[Any]] = {
        name: checkpoint.arrays[prefix + name].astype(np.float32)
        for name in network.named_parameters()
    }
    network.load_state_dict(weights)
    return network
