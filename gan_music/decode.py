"""Turning the generator's output into notes: a joint beam search over 16th-note steps.

For every step and lower voice the generator gives a distribution over 50 classes: strike
one of 48 pitches (a note starts), rest, or hold the note the voice is playing. Read step
by step they spell a line of notes, and the log-probabilities of its classes add up to the
line's score. So a note lasts as long as the model holds it, striking the pitch a voice
holds re-strikes it, and a 16th note is possible wherever the model strikes twice in a row.

:func:`best_lines` reads each voice alone, exactly (the most likely line under the model,
by dynamic programming): that is the network's own harmony, with no rule added.

:func:`beam_search` reads the three voices **jointly**: at each step every voice may hold
its note or strike one of its ``candidates`` most likely pitches; the combinations are
searched over time with a beam of ``beam_width`` partial solutions, adding to the model's
log-probabilities penalties for what the rules of four-part writing forbid: parallel fifths
and octaves between any two of the four voices (the melody included), a voice crossing
above the one over it, and more than an octave between neighbouring upper voices. Gumbel
noise scaled by ``temperature`` perturbs every class score (with temperature 1 and no
penalties this would sample each step from the model), so different seeds give different,
equally plausible accompaniments. Steps where the melody rests are rests for every voice;
elsewhere the accompaniment always sounds.

>>> import numpy as np
>>> logits = np.full((4, 3, 50), -5.0)
>>> logits[0, 0, 28] = logits[0, 1, 19] = logits[0, 2, 12] = 5.0  # strike E4, G3, C3,
>>> logits[1:, :, 49] = 5.0  # then hold them
>>> pitch, struck = beam_search(NoteScores.from_logits(logits), np.full(4, 72), np.random.default_rng(0))
>>> pitch[0].tolist(), struck[:, 0].tolist()
([64, 55, 48], [True, False, False, False])
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gan_music.models import HOLD_CLASS, N_ACCOMPANIMENT, N_CLASSES, REST_CLASS
from gan_music.nn import gumbel_noise, log_softmax
from gan_music.pianoroll import LOWEST_PITCH, REST

_PAIRS = list(itertools.combinations(range(N_ACCOMPANIMENT), 2))  # alto-tenor, alto-bass, ...
_UPPER = np.array([upper for upper, _ in _PAIRS])
_LOWER = np.array([lower for _, lower in _PAIRS])


@dataclass(frozen=True)
class DecoderConfig:
    """Search width, noise and the penalty weights (in nats of log-probability)."""

    beam_width: int = 16
    candidates: int = 4
    temperature: float = 0.5
    parallel_penalty: float = 10.0
    crossing_penalty: float = 6.0
    spacing_penalty: float = 1.0


@dataclass(frozen=True)
class NoteScores:
    """Log-probabilities per step: ``strike`` ``(steps, 3, 49)`` (48 pitches, then rest), ``hold`` ``(steps, 3)``."""

    strike: NDArray[np.floating]
    hold: NDArray[np.floating]

    @classmethod
    def from_logits(cls, logits: NDArray[np.floating]) -> NoteScores:
        """From the generator's ``(steps, 3, 50)`` logits."""
        log_p = log_softmax(logits)
        return cls(log_p[..., :HOLD_CLASS], log_p[..., HOLD_CLASS])

    def __len__(self) -> int:
        return len(self.strike)


def best_lines(scores: NoteScores) -> tuple[NDArray[np.int16], NDArray[np.bool_]]:
    """The network alone: each voice's most likely line, with no rule or penalty.

    Returns pitches ``(steps, 3)`` (``REST`` for silence) and onsets ``(steps, 3)``. Voices
    are read independently and may rest anywhere; a pitch may be held (not a rest, and not
    at the first step); the line maximises the sum of its classes' log-probabilities
    (a Viterbi search over the 49 pitches and rest per voice).

    >>> logits = np.zeros((4, 3, 50))
    >>> logits[[0, 2], :, 24] = logits[[1, 3], :, 49] = 4.0  # strike C4, hold, strike, hold
    >>> pitch, struck = best_lines(NoteScores.from_logits(logits))
    >>> pitch[:, 0].tolist(), struck[:, 0].tolist()  # C4 struck twice: two eighths
    ([60, 60, 60, 60], [True, False, True, False])
    """
    n_steps = len(scores)
    sounding = np.arange(N_CLASSES) != REST_CLASS
    value = np.array(scores.strike[0], dtype=np.float64)  # (3, 49)
    came_from = np.zeros((n_steps, N_ACCOMPANIMENT, N_CLASSES), np.int16)
    struck = np.zeros((n_steps, N_ACCOMPANIMENT, N_CLASSES), bool)
    struck[0] = sounding
    for t in range(1, n_steps):
        strike = value.max(axis=1, keepdims=True) + scores.strike[t]
        hold = np.where(sounding, value + scores.hold[t][:, None], -np.inf)
        striking = strike >= hold
        came_from[t] = np.where(striking, value.argmax(axis=1)[:, None], np.arange(N_CLASSES))
        struck[t] = sounding & striking
        value = np.maximum(strike, hold)
    classes = np.empty((n_steps, N_ACCOMPANIMENT), np.intp)
    classes[-1] = value.argmax(axis=1)
    voices = np.arange(N_ACCOMPANIMENT)
    for t in range(n_steps - 1, 0, -1):
        classes[t - 1] = came_from[t, voices, classes[t]]
    onset = struck[np.arange(n_steps)[:, None], voices, classes]
    return _pitches(classes), onset


def beam_search(
    scores: NoteScores,
    melody: NDArray[np.integer],
    rng: np.random.Generator,
    config: DecoderConfig = DecoderConfig(),
) -> tuple[NDArray[np.int16], NDArray[np.bool_]]:
    """Pitches and onsets ``(steps, 3)`` for alto, tenor and bass, searched jointly.

    ``melody`` holds the soprano's MIDI pitches per step (``REST`` for silence), on the same
    pitch axis as the classes (class ``c`` is MIDI ``LOWEST_PITCH + c``).
    """
    n_steps = len(scores)
    strike = np.array(scores.strike, dtype=np.float64)
    hold = np.array(scores.hold, dtype=np.float64)
    if config.temperature > 0:
        strike += config.temperature * gumbel_noise(rng, strike.shape, np.float64)
        hold += config.temperature * gumbel_noise(rng, hold.shape, np.float64)
    melody = np.asarray(melody, dtype=np.int64)
    k = min(config.candidates, REST_CLASS)
    ranked = np.argsort(-strike[:, :, :REST_CLASS], axis=-1)[:, :, :k]  # (steps, 3, k)
    ranked_pitch = ranked + LOWEST_PITCH
    voices = np.arange(N_ACCOMPANIMENT)

    beam_pitch = np.full((1, N_ACCOMPANIMENT), REST, np.int64)
    beam_score = np.zeros(1)
    parents: list[NDArray[np.intp]] = []
    picks: list[NDArray[np.int64]] = []
    strikes: list[NDArray[np.bool_]] = []
    for t in range(n_steps):
        if melody[t] == REST:  # every voice rests: one choice
            pitch = np.full((len(beam_pitch), N_ACCOMPANIMENT, 1), REST, np.int64)
            unary = np.broadcast_to(strike[t, :, REST_CLASS][None, :, None], pitch.shape)
            struck = np.zeros(pitch.shape, bool)
        else:  # strike one of k pitches (columns 0..k-1) or hold the note (column k)
            held = beam_pitch[:, :, None]
            pitch = np.concatenate(
                [
                    np.broadcast_to(ranked_pitch[t][None], (len(beam_pitch), N_ACCOMPANIMENT, k)),
                    held,
                ],
                axis=2,
            )
            unary = np.concatenate(
                [
                    np.broadcast_to(
                        strike[t][voices[:, None], ranked[t]][None],
                        (len(beam_pitch), N_ACCOMPANIMENT, k),
                    ),
                    np.where(held == REST, -np.inf, hold[t][None, :, None]),
                ],
                axis=2,
            )
            struck = np.zeros(pitch.shape, bool)
            struck[:, :, :k] = True
        width = pitch.shape[2]
        # Every combination of the voices' choices, as a (beam, width, width, width) array.
        total = (
            (beam_score[:, None] + unary[:, 0])[:, :, None, None]
            + unary[:, 1, None, :, None]
            + unary[:, 2, None, None, :]
        )
        total -= _vertical_penalties(pitch, int(melody[t]), config)
        if t > 0 and config.parallel_penalty:
            count = _parallels(beam_pitch, pitch, int(melody[t - 1]), int(melody[t]))
            total -= config.parallel_penalty * count
        flat = total.ravel()
        keep = min(config.beam_width, int(np.isfinite(flat).sum()) or 1)
        best = np.argpartition(-flat, keep - 1)[:keep]
        parent, new = np.divmod(best, width**N_ACCOMPANIMENT)
        chosen = np.stack(np.unravel_index(new, (width,) * N_ACCOMPANIMENT), axis=1)  # (keep, 3)
        beam_score = flat[best]
        beam_pitch = pitch[parent[:, None], voices, chosen]
        parents.append(parent)
        picks.append(beam_pitch)
        strikes.append(struck[parent[:, None], voices, chosen])
    out_pitch = np.empty((n_steps, N_ACCOMPANIMENT), np.int16)
    out_onset = np.empty((n_steps, N_ACCOMPANIMENT), bool)
    state = int(np.argmax(beam_score))
    for t in range(n_steps - 1, -1, -1):
        out_pitch[t], out_onset[t] = picks[t][state], strikes[t][state]
        state = int(parents[t][state])
    return out_pitch, out_onset


def _pitches(classes: NDArray[np.integer]) -> NDArray[np.int16]:
    return np.where(classes == REST_CLASS, REST, classes + LOWEST_PITCH).astype(np.int16)


def _vertical_penalties(
    pitch: NDArray[np.int64], melody: int, config: DecoderConfig
) -> NDArray[np.float64]:
    """``(beam, w, w, w)``: crossing above the voice over it and gaps wider than an octave.

    ``pitch`` ``(beam, 3, w)`` holds each voice's possible pitches per beam entry; entry
    ``[i, a, t, b]`` scores alto choice ``a`` with tenor ``t`` and bass ``b`` after entry ``i``.
    """
    alto = pitch[:, 0, :, None, None]
    tenor = pitch[:, 1, None, :, None]
    bass = pitch[:, 2, None, None, :]
    crossings = (tenor > alto).astype(np.float64) + (bass > tenor)
    penalty = config.crossing_penalty * crossings + config.spacing_penalty * (alto - tenor > 12)
    if melody != REST:
        penalty = penalty + config.crossing_penalty * (alto > melody)
        penalty = penalty + config.spacing_penalty * (melody - alto > 12)
    result: NDArray[np.float64] = penalty
    return result


def _parallels(
    before: NDArray[np.int64], after: NDArray[np.int64], melody_before: int, melody_after: int
) -> NDArray[np.float64]:
    """``(beam, w, w, w)`` count of voice pairs moving in parallel fifths or octaves.

    ``before`` ``(beam, 3)`` holds the previous step's pitches, ``after`` ``(beam, 3, w)``
    each voice's possible pitches this step. Voices are compared as
    :func:`gan_music.metrics.parallel_rate` does: both sound before and after, both change
    pitch in the same direction, and ``abs(upper - lower) % 12`` is 7 at both steps or 0 at
    both steps. The three lower-voice pairs are counted on ``(w, w)`` tables and each voice
    against the melody on a ``(w,)`` one, and the tables are broadcast into the combinations.
    """
    prev = before[:, :, None]  # (beam, 3, 1)
    moved = (prev != REST) & (after != REST) & (prev != after)
    motion = np.where(moved, np.sign(after - prev), 0)  # (beam, 3, w): -1, 0 (still), 1
    i0 = np.abs(before[:, _UPPER] - before[:, _LOWER]) % 12  # (beam, pairs)
    key = np.where((i0 == 0) | (i0 == 7), i0, -1)[:, :, None, None]
    i1 = np.abs(after[:, _UPPER, :, None] - after[:, _LOWER, None, :]) % 12  # (beam, pairs, w, w)
    upper, lower = motion[:, _UPPER, :, None], motion[:, _LOWER, None, :]
    table = ((upper == lower) & (upper != 0) & (i1 == key)).astype(np.float64)
    # pairs (alto, tenor), (alto, bass), (tenor, bass) onto axes (a, t), (a, b), (t, b)
    count = table[:, 0, :, :, None] + table[:, 1, :, None, :] + table[:, 2, None, :, :]
    if REST not in (melody_before, melody_after) and melody_before != melody_after:
        rise = np.sign(melody_after - melody_before)
        m0 = np.abs(melody_before - before) % 12  # (beam, 3)
        m_key = np.where((m0 == 0) | (m0 == 7), m0, -1)[:, :, None]
        m1 = np.abs(melody_after - after) % 12  # (beam, 3, w)
        with_melody = ((motion == rise) & (m1 == m_key)).astype(np.float64)
        count += with_melody[:, 0, :, None, None]
        count += with_melody[:, 1, None, :, None]
        count += with_melody[:, 2, None, None, :]
    result: NDArray[np.float64] = count
    return result
