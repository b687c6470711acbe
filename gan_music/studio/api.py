"""What the studio's page can ask for, as plain functions from JSON values to JSON values.

The HTTP server (:mod:`gan_music.studio.server`) only moves bytes; everything the studio does
is here, and every step of it is gan_music's own code: :func:`gan_music.midi.read_melody_bytes`
reads an upload, :func:`gan_music.midi.melody_from_notes` turns the page's notes into a
:class:`~gan_music.midi.Melody` exactly as a file is read, the model's ``harmonise`` writes the
voices, and :func:`gan_music.midi.harmony_bytes` makes the file ``gan-music generate`` writes.

A melody travels as JSON in the file's own terms, so an upload that comes back unedited
gives the same :class:`~gan_music.midi.Melody` and the same MIDI file as the command line::

    {"ticks_per_beat": 480, "end_tick": 7680,
     "notes": [[start_tick, end_tick, pitch, velocity], ...],
     "meta": [[tick, "set_tempo", {"tempo": 750000}], [0, "time_signature", {...}], ...]}

>>> from gan_music.midi import example_melody
>>> page = melody_to_json(example_melody(), "example")
>>> page["steps_per_bar"], page["first_downbeat"], len(page["notes"])
(16, 4, 50)
>>> melody_from_json(page).notes == example_melody().notes
True
>>> melody_from_json({"ticks_per_beat": 480, "notes": [], "end_tick": 0, "meta": []})
Traceback (most recent call last):
...
gan_music.studio.api.RequestError: the melody has no notes: play or load a melody first
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
from collections.abc import Mapping
from typing import Any

from gan_music.errors import GanMusicError
from gan_music.midi import KEPT_META, Melody, MetaEvent, TickNote, melody_from_notes
from gan_music.pianoroll import STEPS_PER_BAR, VOICES, Score

MAX_STEPS = 2048  #: 128 bars of 4/4: longer pieces go through ``gan-music generate``
MAX_NOTES = 4096
MAX_META = 256
MAX_SEED = 2**63 - 1
TEMPERATURE_RANGE = (0.0, 5.0)
META_ATTRIBUTES = {
    "set_tempo": {"tempo"},
    "time_signature": {
        "numerator",
        "denominator",
        "clocks_per_click",
        "notated_32nd_notes_per_beat",
    },
    "key_signature": {"key"},
}


class RequestError(GanMusicError):
    """A request the studio refuses; the message is shown on the page as it is."""


def melody_to_json(melody: Melody, name: str) -> dict[str, Any]:
    """The melody as the page holds it, with the metre the reader found and a display name."""
    check_length(melody)
    return {
        "name": name,
        "ticks_per_beat": melody.ticks_per_beat,
        "end_tick": melody.end_tick,
        "notes": [list(note) for note in melody.notes],
        "meta": [[tick, kind, dict(attributes)] for tick, kind, attributes in melody.meta],
        "steps_per_bar": melody.steps_per_bar,
        "first_downbeat": melody.first_downbeat,
        "n_steps": melody.n_steps,
        "was_polyphonic": melody.was_polyphonic,
    }


def melody_from_json(value: object) -> Melody:
    """Check a melody sent by the page and read it as :func:`gan_music.midi.read_melody` would."""
    fields = _mapping(value, "melody")
    tpb = _integer(fields.get("ticks_per_beat"), "melody.ticks_per_beat", 1, 0x7FFF)
    end_limit = 2**31
    end_tick = _integer(fields.get("end_tick", 0), "melody.end_tick", 0, end_limit)
    raw_notes = _sequence(fields.get("notes"), "melody.notes", MAX_NOTES)
    notes: list[TickNote] = []
    for index, raw in enumerate(raw_notes):
        where = f"melody.notes[{index}]"
        item = _sequence(raw, where, 4)
        if len(item) != 4:
            msg = f"{where} must be [start tick, end tick, pitch, velocity]"
            raise RequestError(msg)
        start = _integer(item[0], where + " start", 0, end_limit)
        end = _integer(item[1], where + " end", start + 1, end_limit)
        pitch = _integer(item[2], where + " pitch", 0, 127)
        velocity = _integer(item[3], where + " velocity", 1, 127)
        notes.append((start, end, pitch, velocity))
    meta = [_meta_event(raw, index) for index, raw in enumerate(
        _sequence(fields.get("meta", []), "melody.meta", MAX_META)
    )]  # fmt: skip
    if not notes:
        msg = "the melody has no notes: play or load a melody first"
        raise RequestError(msg)
    _check_steps(max(end_tick, *(end for _, end, _, _ in notes)), tpb)
    return melody_from_notes(notes, tpb, meta, end_tick, name="the melody")


def check_length(melody: Melody) -> None:
    """Refuse a melody longer than :data:`MAX_STEPS` sixteenth notes, saying what to do."""
    _check_steps(melody.end_tick, melody.ticks_per_beat)


def _check_steps(end_tick: int, ticks_per_beat: int) -> None:
    steps = -(-4 * end_tick // ticks_per_beat)
    if steps > MAX_STEPS:
        bars = MAX_STEPS // STEPS_PER_BAR
        msg = (
            f"the melody lasts {steps} sixteenth notes, more than the {MAX_STEPS} "
            f"({bars} bars of 4/4) the studio takes: shorten it, or harmonise it with "
            "gan-music generate"
        )
        raise RequestError(msg)


def harmony_request(value: object) -> tuple[Melody, int, float | None]:
    """The melody, seed and temperature of a harmonise or download request."""
    fields = _mapping(value, "request")
    melody = melody_from_json(fields.get("melody"))
    seed = _integer(fields.get("seed"), "seed", 0, MAX_SEED)
    temperature = fields.get("temperature")
    if temperature is not None:
        low, high = TEMPERATURE_RANGE
        if (
            isinstance(temperature, bool)
            or not isinstance(temperature, int | float)
            or not low <= temperature <= high
        ):
            msg = f"temperature must be a number from {low} to {high}, got {temperature!r}"
            raise RequestError(msg)
        temperature = float(temperature)
    return melody, seed, temperature


def default_temperature(model: Any) -> float | None:
    """The sampling temperature the model uses unless told, or None if it has no such setting."""
    parameter = inspect.signature(model.harmonise).parameters.get("temperature")
    if parameter is not None and isinstance(parameter.default, int | float):
        return float(parameter.default)
    decoder = getattr(model, "decoder", None)
    value = getattr(decoder, "temperature", None)
    return float(value) if isinstance(value, int | float) else None


def harmonise(model: Any, melody: Melody, seed: int, temperature: float | None = None) -> Score:
    """The model's four voices for ``melody``, called as ``gan-music generate`` calls it.

    A temperature is passed to ``harmonise`` if it takes one, else set on a copy of the
    model's decoder; ``None`` leaves the model's own setting, as the command line does.
    """
    options: dict[str, Any] = {}
    if temperature is not None:
        if "temperature" in inspect.signature(model.harmonise).parameters:
            options["temperature"] = temperature
        elif default_temperature(model) is not None:
            model = copy.copy(model)  # the shared model keeps its own decoder
            model.decoder = dataclasses.replace(model.decoder, temperature=temperature)
        else:
            msg = "this model has no sampling temperature: leave the temperature at its default"
            raise RequestError(msg)
    harmony: Score = model.harmonise(
        melody.to_score(),
        seed=seed,
        steps_per_bar=melody.steps_per_bar,
        first_downbeat=melody.first_downbeat,
        **options,
    )
    return harmony


def harmony_to_json(
    harmony: Score, melody: Melody, seed: int, temperature: float | None
) -> dict[str, Any]:
    """The four voices for the page: per voice its notes as ``[start step, steps, pitch]``."""
    voices: list[list[list[int]]] = [[] for _ in range(harmony.n_voices)]
    for voice, start, length, pitch in harmony.to_notes():
        voices[voice].append([start, length, pitch])
    return {
        "voices": [{"name": VOICES[v], "notes": notes} for v, notes in enumerate(voices)],
        "n_steps": harmony.n_steps,
        "steps_per_bar": melody.steps_per_bar,
        "first_downbeat": melody.first_downbeat,
        "seed": seed,
        "temperature": temperature,
    }


def _meta_event(raw: object, index: int) -> MetaEvent:
    where = f"melody.meta[{index}]"
    item = _sequence(raw, where, 3)
    if len(item) != 3 or not isinstance(item[1], str) or item[1] not in KEPT_META:
        msg = f"{where} must be [tick, one of {', '.join(KEPT_META)}, attributes]"
        raise RequestError(msg)
    tick = _integer(item[0], where + " tick", 0, 2**31)
    kind = item[1]
    attributes = dict(_mapping(item[2], where + " attributes"))
    if set(attributes) != META_ATTRIBUTES[kind]:
        msg = f"{where} ({kind}) needs exactly the attributes {sorted(META_ATTRIBUTES[kind])}"
        raise RequestError(msg)
    for name, attribute in attributes.items():
        if name != "key":
            _integer(attribute, f"{where} {name}", 0, 2**24 - 1)
    try:
        from gan_music.midi import _mido

        _mido().MetaMessage(kind, **attributes)
    except (ValueError, TypeError) as error:
        msg = f"{where} is not a valid {kind} event ({error})"
        raise RequestError(msg) from None
    if kind == "time_signature" and attributes["numerator"] < 1:
        msg = f"{where} needs a numerator of at least 1"
        raise RequestError(msg)
    return tick, kind, attributes


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        msg = f"{what} must be a JSON object"
        raise RequestError(msg)
    return value


def _sequence(value: object, what: str, limit: int) -> list[Any]:
    if not isinstance(value, list):
        msg = f"{what} must be a JSON list"
        raise RequestError(msg)
    if len(value) > limit:
        msg = f"{what} has {len(value)} entries, more than the {limit} the studio takes"
        raise RequestError(msg)
    return value


def _integer(value: object, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        msg = f"{what} must be a whole number from {low} to {high}, got {value!r}"
        raise RequestError(msg)
    return value
