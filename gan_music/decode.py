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

import functools
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
_ADJACENT = [0, 2]  # alto-tenor and tenor-bass: the pairs where the lower may cross the upper


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
    ranked_score = np.take_along_axis(strike, ranked, axis=-1)
    voices = np.arange(N_ACCOMPANIMENT)
    width = k + 1  # strike one of k pitches (columns 0..k-1) or hold the note (column k)
    choices = np.array(list(np.ndindex((width,) * N_ACCOMPANIMENT)))  # (width**3, 3)

    beam_pitch = np.full((1, N_ACCOMPANIMENT), REST, np.int64)
    beam_score = np.zeros(1)
    parents: list[NDArray[np.intp]] = []
    picks: list[NDArray[np.int64]] = []
    strikes: list[NDArray[np.bool_]] = []
    for t in range(n_steps):
        beam = len(beam_pitch)
        if melody[t] == REST:  # every voice rests: one choice
            rest = strike[t, :, REST_CLASS]
            beam_score = beam_score + rest[0] + rest[1] + rest[2]
            beam_pitch = np.full((beam, N_ACCOMPANIMENT), REST, np.int64)
            parents.append(np.arange(beam))
            picks.append(beam_pitch)
            strikes.append(np.zeros((beam, N_ACCOMPANIMENT), bool))
            continue
        can_hold = t > 0 and melody[t - 1] != REST  # a voice holds what it plays, never a rest
        pitch = np.empty((beam, N_ACCOMPANIMENT, width), np.int64)
        pitch[:, :, :k] = ranked_pitch[t]
        pitch[:, :, k] = beam_pitch
        unary = np.empty((beam, N_ACCOMPANIMENT, width))
        unary[:, :, :k] = ranked_score[t]
        unary[:, :, k] = hold[t] if can_hold else -np.inf
        # Every combination of the voices' choices, as a (beam, width, width, width) array.
        total = (
            (beam_score[:, None] + unary[:, 0])[:, :, None, None]
            + unary[:, 1, None, :, None]
            + unary[:, 2, None, None, :]
        )
        before = beam_pitch if can_hold and config.parallel_penalty else None
        total -= _penalties(pitch, before, int(melody[t - 1]), int(melody[t]), config)
        flat = total.ravel()
        possible = beam * (width if can_hold else k) ** N_ACCOMPANIMENT  # the finite entries
        keep = min(config.beam_width, possible)
        best = np.argpartition(-flat, keep - 1)[:keep]
        parent, new = np.divmod(best, len(choices))
        chosen = choices[new]  # (keep, 3)
        beam_score = flat[best]
        beam_pitch = pitch[parent[:, None], voices, chosen]
        parents.append(parent)
        picks.append(beam_pitch)
        strikes.append(chosen < k)
    out_pitch = np.empty((n_steps, N_ACCOMPANIMENT), np.int16)
    out_onset = np.empty((n_steps, N_ACCOMPANIMENT), bool)
    state = int(np.argmax(beam_score))
    for t in range(n_steps - 1, -1, -1):
        out_pitch[t], out_onset[t] = picks[t][state], strikes[t][state]
        state = int(parents[t][state])
    return out_pitch, out_onset


def _pitches(classes: NDArray[np.integer]) -> NDArray[np.int16]:
    return np.where(classes == REST_CLASS, REST, classes + LOWEST_PITCH).astype(np.int16)


_GAP = 256  #: the tables below are indexed by gap + _GAP, for any two of MIDI 0..127 and REST
_GAPS = np.arange(-_GAP, _GAP)
_CLASS = np.abs(_GAPS) % 12  # interval class by gap
_KEY_BEFORE = np.where((_CLASS == 0) | (_CLASS == 7), _CLASS, -1)  # octave 0, fifth 7, else -1
_KEY_AFTER = np.where(_KEY_BEFORE < 0, -2, _KEY_BEFORE)  # never equal to a "neither" before
_PAIR_ROWS = (np.arange(len(_PAIRS)) * 2 * _GAP + _GAP)[:, None, None]  # pair p's table, centred


@functools.lru_cache(maxsize=8)
def _rule_tables(config: DecoderConfig) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Penalty by gap: per pair of lower voices (flattened, upper minus lower), and alto minus melody."""
    pair = np.zeros((len(_PAIRS), 2 * _GAP))
    pair[_ADJACENT] += config.crossing_penalty * (_GAPS < 0)  # tenor over alto, bass over tenor
    pair[0] += config.spacing_penalty * (_GAPS > 12)  # alto more than an octave over tenor
    alto = config.crossing_penalty * (_GAPS > 0) + config.spacing_penalty * (_GAPS < -12)
    return pair.ravel(), alto


def _penalties(
    pitch: NDArray[np.int64],
    before: NDArray[np.int64] | None,
    melody_before: int,
    melody: int,
    config: DecoderConfig,
) -> NDArray[np.float64]:
    """``(beam, w, w, w)``: the rules' penalty for every combination of the voices' choices.

    ``pitch`` ``(beam, 3, w)`` holds each voice's possible pitches per beam entry (none a
    rest: ``melody`` sounds): entry ``[i, a, t, b]`` scores alto choice ``a`` with tenor
    ``t`` and bass ``b`` after beam entry ``i``, whose pitches are ``before`` ``(beam, 3)``
    (``None``: no parallels counted, as after a rest). The rules:

    - crossing: a voice above the one over it (alto above the melody, tenor above alto,
      bass above tenor);
    - spacing: more than an octave between the melody and alto, or alto and tenor;
    - parallels, as :func:`gan_music.metrics.parallel_rate` counts them: both voices sound
      before and after, both move in the same direction, and ``abs(upper - lower) % 12``
      is 7 at both steps or 0 at both steps, for any two of the four voices.

    Each rule concerns two voices, so it is looked up by their gap on one ``(w, w)`` table
    per pair of lower voices and beam entry (a rule against the melody on a row or column
    of one), and the three tables are broadcast into the combinations once.
    """
    pair_rule, alto_rule = _rule_tables(config)
    gap = pitch[:, _UPPER, :, None] - pitch[:, _LOWER, None, :]  # (beam, pairs, w, w)
    table = pair_rule[gap + _PAIR_ROWS]
    table[:, 0] += alto_rule[pitch[:, 0, :, None] - (melody - _GAP)]  # rows of (alto, tenor)
    if before is not None:
        motion = np.sign(pitch - before[:, :, None])  # (beam, 3, w): -1, 0 (held), 1
        upper, lower = motion[:, _UPPER, :, None], motion[:, _LOWER, None, :]
        key = _KEY_BEFORE[before[:, _UPPER] - before[:, _LOWER] + _GAP]  # (beam, pairs)
        same = (upper == lower) & (upper != 0) & (_KEY_AFTER[gap + _GAP] == key[..., None, None])
        table += config.parallel_penalty * same
        if melody_before != melody:
            # each voice against the melody: moving its way, same fifth or octave after
            m_key = _KEY_BEFORE[melody_before - before + _GAP][:, :, None]  # (beam, 3, 1)
            m_same = (motion == np.sign(melody - melody_before)) & (
                _KEY_AFTER[melody - pitch + _GAP] == m_key
            )
            m_penalty = config.parallel_penalty * m_same
            table[:, 0] += m_penalty[:, 0, :, None]  # alto: rows of (alto, tenor)
            table[:, 2] += m_penalty[:, 1, :, None]  # tenor: rows of (tenor, bass)
            table[:, 2] += m_penalty[:, 2, None, :]  # bass: its columns
    # pairs (alto, tenor), (alto, bass), (tenor, bass) onto axes (a, t), (a, b), (t, b)
    result: NDArray[np.float64] = (
        table[:, 0, :, :, None] + table[:, 1, :, None, :] + table[:, 2, None, :, :]
    )
    return result
