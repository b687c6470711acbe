"""Limits on what a checkpoint's configuration may ask for, checked before anything is allocated.

A checkpoint carries its network sizes as JSON, and the program builds what they describe. A
few bytes of JSON can describe a network of billions of weights (``"g_channels": 30000``) or a
convolution padded by a billion steps, so every field of :class:`~gan_music.models.ModelConfig`
and :class:`~gan_music.train.TrainConfig` has an entry in a table here, and the whole network
has a bound on its number of weights. A field without an entry is refused until one is added
(and a test fails): a new field cannot slip past the check.

The limits are generous: the shipped model (96 channels, 13 blocks, about 0.53 million
weights in the generator) is far inside every one of them.

>>> text = ModelConfig(head_channels=64).to_json()
>>> model_config_from_json(text, where="model.npz") == ModelConfig(head_channels=64)
True
>>> model_config_from_json(text.replace('"g_channels": 96', '"g_channels": 30000'), where="model.npz")
Traceback (most recent call last):
...
gan_music.errors.CheckpointError: model.npz: g_channels is 30000, outside the accepted 1 to 512: ...
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from gan_music.errors import CheckpointError
from gan_music.models import MELODY_CHANNELS, N_ACCOMPANIMENT, ModelConfig
from gan_music.nn.intervals import VoicePairIntervals
from gan_music.pianoroll import N_PITCHES
from gan_music.relations import N_OUTPUTS, Relations

MAX_PARAMETERS = 4_000_000  #: weights of each network: 16 MB as float32, 16 times the shipped model
MAX_RECEPTIVE_RADIUS = 4096  #: sum of the dilations: steps on each side a step may look at
MAX_EXTRA_KEYS = 32  #: entries of ModelConfig.extra
MAX_EXTRA_TEXT = 256  #: characters of each key and text value in ModelConfig.extra

Config = TypeVar("Config")


@dataclass(frozen=True)
class Number:
    """An int (or, with ``real``, a finite float) between ``low`` and ``high`` inclusive."""

    low: float
    high: float
    real: bool = False

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value``, or None."""
        allowed = (int, float) if self.real else (int,)
        if isinstance(value, bool) or not isinstance(value, allowed):
            return f"is {_shown(value)}, not {'a number' if self.real else 'a whole number'}"
        if not math.isfinite(value) or not self.low <= value <= self.high:
            return f"is {_shown(value)}, outside the accepted {self.low:g} to {self.high:g}"
        return None


@dataclass(frozen=True)
class Numbers:
    """A list of ``min_items`` to ``max_items`` numbers, each within ``each``."""

    each: Number
    min_items: int
    max_items: int

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value``, or None."""
        if not isinstance(value, list | tuple):
            return f"is {_shown(value)}, not a list"
        if not self.min_items <= len(value) <= self.max_items:
            return (
                f"has {len(value)} entries, outside the accepted {self.min_items} to "
                f"{self.max_items}"
            )
        for index, item in enumerate(value):
            problem = self.each.problem(item)
            if problem:
                return f"[{index}] {problem}"
        return None


@dataclass(frozen=True)
class Extras:
    """A small dictionary of text keys to JSON numbers, text, booleans or null."""

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value``, or None."""
        if not isinstance(value, dict):
            return f"is {_shown(value)}, not a dictionary"
        if len(value) > MAX_EXTRA_KEYS:
            return f"has {len(value)} entries, more than the {MAX_EXTRA_KEYS} accepted"
        for key, item in value.items():
            scalar = item is None or isinstance(item, bool | int | float | str)
            if len(key) > MAX_EXTRA_TEXT or not scalar or len(str(item)) > MAX_EXTRA_TEXT:
                return f"[{_shown(key)}] is {_shown(item)}: entries are short numbers or text"
        return None


@dataclass(frozen=True)
class Flag:
    """``true`` or ``false``."""

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value``, or None."""
        return None if isinstance(value, bool) else f"is {_shown(value)}, not true or false"


Limit = Number | Numbers | Extras | Flag

_DILATION = Number(1, 1024)
MODEL_LIMITS: Mapping[str, Limit] = {
    "g_channels": Number(1, 512),
    "g_dilations": Numbers(_DILATION, 1, 32),
    "h_dilations": Numbers(_DILATION, 1, 32),
    "head_channels": Number(1, 1024),
    "relations": Flag(),
    "d_channels": Number(1, 512),
    "d_dilations": Numbers(_DILATION, 1, 16),
    "slope": Number(0.0, 1.0, real=True),
    "window_steps": Number(4, 1024),
    "extra": Extras(),
}
"""Each field of ModelConfig and what it may hold."""

TRAIN_LIMITS: Mapping[str, Limit] = {
    "steps": Number(1, 1_000_000),  # the loss history of a million steps is 64 MB
    "adv_fraction": Number(0.0, 1.0, real=True),
    "batch_size": Number(1, 4096),
    "lr_g": Number(0.0, 1.0, real=True),
    "lr_d": Number(0.0, 1.0, real=True),
    "betas_g": Numbers(Number(0.0, 0.999999, real=True), 2, 2),
    "betas_d": Numbers(Number(0.0, 0.999999, real=True), 2, 2),
    "decay_fraction": Number(0.0, 1.0, real=True),
    "ce_weight": Number(0.0, 1e6, real=True),
    "adv_weight": Number(0.0, 1e6, real=True),
    "sample_temperature": Number(0.0, 1e6, real=True),
    "parallel_penalty": Number(0.0, 1e6, real=True),
    "d_loss_floor": Number(0.0, 1e6, real=True),
    "crossing_weight": Number(0.0, 1e6, real=True),
    "parallel_weight": Number(0.0, 1e6, real=True),
    "ema_decay": Number(0.0, 1.0, real=True),
    "window_hop": Number(1, 1024),
    "checkpoint_every": Number(1, 10_000_000),
}
"""Each field of TrainConfig except ``model`` (checked with MODEL_LIMITS) and what it may hold."""


def model_config_from_json(text: str, *, where: object) -> ModelConfig:
    """The ModelConfig in ``text``, or a :class:`CheckpointError` naming the field out of bounds.

    Checks every field against :data:`MODEL_LIMITS`, then the size of both networks, before
    anything is built.
    """
    values = _checked_values(text, MODEL_LIMITS, where=where, what="model configuration")
    config = _build(ModelConfig.from_json, json.dumps(values), where)
    radius = max(sum(config.g_dilations), sum(config.h_dilations))
    if radius > MAX_RECEPTIVE_RADIUS:
        msg = (
            f"{where}: the generator's dilations add up to {radius}, more than the "
            f"{MAX_RECEPTIVE_RADIUS} accepted: the file is damaged or not a gan-music model"
        )
        raise CheckpointError(msg)
    for network, count in parameter_counts(config).items():
        if count > MAX_PARAMETERS:
            msg = (
                f"{where}: its configuration describes a {network} of {count:,} weights, more "
                f"than the {MAX_PARAMETERS:,} accepted: the file is damaged or not a gan-music model"
            )
            raise CheckpointError(msg)
    return config


def train_values_from_json(text: str, *, where: object) -> dict[str, Any]:
    """The training schedule's fields in ``text``, each checked against :data:`TRAIN_LIMITS`."""
    return _checked_values(text, TRAIN_LIMITS, where=where, what="training configuration")


def parameter_counts(config: ModelConfig) -> dict[str, int]:
    """How many weights each network of ``config`` has, computed without building it.

    >>> parameter_counts(ModelConfig())["generator"]
    533941
    """
    width, d_width, hidden = config.g_channels, config.d_channels, config.head_channels
    generator = (MELODY_CHANNELS + 1) * width  # the melody's 1x1 lift
    generator += len(config.g_dilations) * (3 * width + 1) * width  # its residual blocks
    generator += (N_ACCOMPANIMENT * N_OUTPUTS + 1) * width  # the history's 1x1 lift
    generator += len(config.h_dilations) * (2 * width + 1) * width  # its causal blocks
    for known in range(N_ACCOMPANIMENT):  # the heads: bass knows none, tenor one, alto two
        generator += (width + known * N_OUTPUTS + 1) * hidden + (hidden + 1) * N_OUTPUTS
    if config.relations:
        generator += Relations().size + 1
    d_inputs = 4 * N_OUTPUTS + len(VoicePairIntervals(4, N_PITCHES).pairs) * 12
    critic = (3 * d_inputs + 1) * d_width
    critic += (len(config.d_dilations) - 1) * (3 * d_width + 1) * d_width
    critic += d_width + 1  # the linear output
    return {"generator": generator, "discriminator": critic}


def unlimited_fields(
    cls: type, limits: Mapping[str, Limit], *, skip: tuple[str, ...] = ()
) -> set[str]:
    """Fields of the dataclass ``cls`` that have no entry in ``limits``: should be empty."""
    return {f.name for f in fields(cls)} - set(limits) - set(skip)


def _checked_values(
    text: str, limits: Mapping[str, Limit], *, where: object, what: str
) -> dict[str, Any]:
    try:
        values = json.loads(text)
    except (ValueError, RecursionError) as error:
        msg = f"{where}: unreadable {what} ({type(error).__name__}): the file is damaged"
        raise CheckpointError(msg) from None
    if not isinstance(values, dict):
        msg = f"{where}: the {what} is {_shown(values)}, not a JSON object: the file is damaged"
        raise CheckpointError(msg)
    for name, value in values.items():
        limit = limits.get(name)
        if limit is None:
            msg = f"{where}: unknown field {_shown(name)} in the {what}: the file is damaged or from a newer gan-music"
            raise CheckpointError(msg)
        problem = limit.problem(value)
        if problem:
            msg = f"{where}: {name} {problem}: the file is damaged or not a gan-music model"
            raise CheckpointError(msg)
    return values


def _build(make: Callable[[str], Config], text: str, where: object) -> Config:
    try:
        return make(text)
    except (ValueError, TypeError, KeyError) as error:
        msg = f"{where}: unreadable configuration ({error}): the file is damaged"
        raise CheckpointError(msg) from None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
