"""Turning the generator's pitch distributions into notes: a joint beam search over time.

The generator gives, for every 16th-note step, a distribution over 49 classes (48 pitches
and rest) for each of alto, tenor and bass. Taking each voice's most likely class at each
step separately has two faults: the choice flickers from step to step (many one-step
notes), and the voices cannot coordinate, so they slide into parallel fifths and octaves.
This decoder therefore

* chooses one pitch per voice per **slot**, an eighth note of the bar grid, scoring a
  pitch by the sum of its log-probabilities over the slot's steps, so no note is shorter
  than an eighth;
* keeps only each voice's ``candidates`` best pitches per slot, and searches the
  combinations of the three voices **jointly** over time with a beam of ``beam_width``
  partial solutions;
* adds to the model's log-probabilities penalties for what the rules of four-part writing
  forbid and the network alone does not see: parallel fifths and octaves between any two
  of the four voices (the melody included), a voice crossing above the one over it, and
  more than an octave between neighbouring upper voices;
* perturbs the slot scores with Gumbel noise scaled by ``temperature`` (with temperature
  1 and no penalties this would sample each slot from the model), so different seeds give
  different, equally plausible accompaniments.

Slots in which the melody rests throughout are rests for every voice; elsewhere the
accompaniment always sounds.

>>> import numpy as np
>>> log_p = np.log(np.full((4, 3, 49), 1 / 49))
>>> log_p[:, 0, 28] = log_p[:, 1, 19] = log_p[:, 2, 12] = 0.0  # E4, G3, C3 most likely
>>> melody = np.full(4, 72)
>>> beam_search(log_p, melody, slot_starts=np.array([0, 2]), rng=np.random.default_rng(0))[0].tolist()
[64, 55, 48]
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gan_music.models import N_ACCOMPANIMENT, REST_CLASS
from gan_music.pianoroll import LOWEST_PITCH, REST


@dataclass(frozen=True)
class DecoderConfig:
    """Search width, noise and the penalty weights (in nats of log-probability)."""

    beam_width: int = 24
    candidates: int = 5
    temperature: float = 0.5
    parallel_penalty: float = 10.0
    crossing_penalty: float = 6.0
    spacing_penalty: float = 1.0


def slot_starts(n_steps: int, first_downbeat: int = 0, slot_steps: int = 2) -> NDArray[np.intp]:
    """First step of every slot: every ``slot_steps`` steps counted from the bar line, and 0.

    >>> slot_starts(7, first_downbeat=1).tolist()
    [0, 1, 3, 5]
    """
    grid = np.arange(first_downbeat % slot_steps, n_steps, slot_steps)
    return np.unique(np.concatenate([[0], grid])).astype(np.intp)


def slot_argmax(log_p: NDArray[np.floating], slot_starts: NDArray[np.intp]) -> NDArray[np.int16]:
    """The network alone: each voice's most likely class per slot, with no rule or penalty.

    A slot's score of a class is the sum of its log-probabilities over the slot's steps, as in
    :func:`beam_search`, but voices are chosen independently and rests are allowed anywhere.
    This is what the evaluation reports as the network's own harmony.

    >>> import numpy as np
    >>> log_p = np.log(np.full((4, 3, 49), 1 / 49))
    >>> log_p[:2, 0, 28] = log_p[2:, 0, 48] = 0.0  # E4, then a rest
    >>> slot_argmax(log_p, np.array([0, 2]))[:, 0].tolist()
    [64, 64, -1, -1]
    """
    n_steps = len(log_p)
    slot_scores = np.add.reduceat(log_p, slot_starts, axis=0)  # (slots, 3, 49)
    classes = slot_scores.argmax(axis=-1)
    pitch = np.where(classes == REST_CLASS, REST, classes + LOWEST_PITCH).astype(np.int16)
    lengths = np.diff(np.append(slot_starts, n_steps))
    return np.repeat(pitch, lengths, axis=0)


def beam_search(
    log_p: NDArray[np.floating],
    melody: NDArray[np.integer],
    slot_starts: NDArray[np.intp],
    rng: np.random.Generator,
    config: DecoderConfig = DecoderConfig(),
) -> NDArray[np.int16]:
    """Pitches ``(steps, 3)`` for alto, tenor, bass from log-probabilities ``(steps, 3, 49)``.

    ``melody`` holds the soprano's MIDI pitches per step (``REST`` for silence), on the same
    pitch axis as the classes (class ``c`` is MIDI ``LOWEST_PITCH + c``).
    """
    n_steps = len(log_p)
    bounds = np.append(slot_starts, n_steps)
    slot_scores = np.add.reduceat(log_p, slot_starts, axis=0)  # (slots, 3, 49)
    if config.temperature > 0:
        u = rng.random(slot_scores.shape)
        slot_scores += config.temperature * -np.log(-np.log(np.clip(u, 1e-300, 1.0)))
    melody_rests = np.logical_and.reduceat(melody == REST, slot_starts)
    # Each slot's best candidate classes per voice; rest only where the melody rests.
    slot_scores[~melody_rests, :, REST_CLASS] = -np.inf
    slot_scores[melody_rests, :, :REST_CLASS] = -np.inf
    k = config.candidates
    choices = np.argsort(-slot_scores, axis=-1)[:, :, :k]  # (slots, 3, k)
    combos = np.array(list(itertools.product(range(k), repeat=N_ACCOMPANIMENT)))  # (m, 3)
    voices = np.arange(N_ACCOMPANIMENT)

    beam_pitch = np.zeros((0, N_ACCOMPANIMENT), np.int64)
    beam_score = np.zeros(0)
    parents: list[NDArray[np.intp]] = []
    picks: list[NDArray[np.int64]] = []
    for slot in range(len(slot_starts)):
        classes = choices[slot][voices, combos]  # (m, 3)
        unary = slot_scores[slot][voices, classes].sum(axis=1)
        pitch = np.where(classes == REST_CLASS, REST, classes + LOWEST_PITCH)
        window = melody[bounds[slot] : bounds[slot + 1]]
        unary -= _vertical_penalties(pitch, window, config)
        if slot == 0:
            total = unary[None, :]
        else:
            previous_melody = int(melody[bounds[slot] - 1])
            motion = _parallels(beam_pitch, pitch, previous_melody, int(window[0]))
            total = beam_score[:, None] + unary[None, :] - config.parallel_penalty * motion
        flat = total.ravel()
        keep = min(config.beam_width, int(np.isfinite(flat).sum()) or 1)
        best = np.argpartition(-flat, keep - 1)[:keep]
        parent, new = np.divmod(best, len(pitch))
        beam_score = flat[best]
        beam_pitch = pitch[new]
        parents.append(parent)
        picks.append(pitch[new])
    out = np.empty((n_steps, N_ACCOMPANIMENT), np.int16)
    state = int(np.argmax(beam_score))
    for slot in range(len(slot_starts) - 1, -1, -1):
        out[bounds[slot] : bounds[slot + 1]] = picks[slot][state]
        state = int(parents[slot][state])
    return out


def _vertical_penalties(
    pitch: NDArray[np.int64], melody: NDArray[np.integer], config: DecoderConfig
) -> NDArray[np.float64]:
    """Per combination: crossing above the voice over it, and gaps wider than an octave."""
    sounding = melody[melody != REST]
    top = int(sounding.min()) if len(sounding) else None  # the lowest the melody goes here
    alto, tenor, bass = pitch[:, 0], pitch[:, 1], pitch[:, 2]
    crossings = (tenor > alto).astype(np.float64) + (bass > tenor)
    penalty = config.crossing_penalty * crossings + config.spacing_penalty * (alto - tenor > 12)
    if top is not None:
        penalty += config.crossing_penalty * (alto > top)
        penalty += config.spacing_penalty * (int(sounding.max()) - alto > 12)
    return penalty


def _parallels(
    before: NDArray[np.int64], after: NDArray[np.int64], melody_before: int, melody_after: int
) -> NDArray[np.float64]:
    """``(beam, combinations)`` count of voice pairs moving in parallel fifths or octaves.

    Voices are compared as :func:`gan_music.metrics.parallel_rate` does: both sound before
    and after, both change pitch in the same direction, and ``abs(upper - lower) % 12`` is 7
    at both steps or 0 at both steps.
    """
    melody_0 = np.full((len(before), 1), melody_before)
    melody_1 = np.full((len(after), 1), melody_after)
    p0 = np.concatenate([melody_0, before], axis=1)[:, None, :]  # (beam, 1, 4)
    p1 = np.concatenate([melody_1, after], axis=1)[None, :, :]  # (1, m, 4)
    moved = (p0 != REST) & (p1 != REST) & (p0 != p1)
    direction = np.sign(p1 - p0)
    count = np.zeros((len(before), len(after)))
    for upper, lower in itertools.combinations(range(4), 2):
        i0 = np.abs(p0[..., upper] - p0[..., lower]) % 12
        i1 = np.abs(p1[..., upper] - p1[..., lower]) % 12
        perfect = ((i0 == 7) & (i1 == 7)) | ((i0 == 0) & (i1 == 0))
        both = (
            moved[..., upper] & moved[..., lower] & (direction[..., upper] == direction[..., lower])
        )
        count += both & perfect
    return count
