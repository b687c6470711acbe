"""Turning the generator's output into notes: a joint beam search over 16th-note steps.

For every step and lower voice the generator gives a distribution over 49 classes (48
pitches and rest) and the probability that a note **starts** there. Read together they
score a whole line of notes: a step that keeps the voice's pitch scores the class and
"no onset" (a tie) or "onset" (the same pitch struck again); a step that changes pitch
scores the class and "onset". So a note lasts as long as the model's onsets say, a pitch
can be re-struck, and a 16th note is possible wherever the model puts two onsets in a row.

:func:`best_lines` reads each voice alone, exactly (the most likely line under the model,
by dynamic programming): that is the network's own harmony, with no rule added.

:func:`beam_search` reads the three voices **jointly**: it keeps each voice's
``candidates`` best classes per step (and the pitch the leading partial solution holds),
searches their combinations over time with a beam of ``beam_width`` partial solutions, and
adds to the model's log-probabilities penalties for what the rules of four-part writing
forbid: parallel fifths and octaves between any two of the four voices (the melody
included), a voice crossing above the one over it, and more than an octave between
neighbouring upper voices. Gumbel noise scaled by ``temperature`` perturbs every class
and onset score (with temperature 1 and no penalties this would sample each step from the
model), so different seeds give different, equally plausible accompaniments. Steps where
the melody rests are rests for every voice; elsewhere the accompaniment always sounds.

>>> import numpy as np
>>> classes = np.log(np.full((4, 3, 49), 1 / 49))
>>> classes[:, 0, 28] = classes[:, 1, 19] = classes[:, 2, 12] = 0.0  # E4, G3, C3 likely
>>> onset = np.full((4, 3), -3.0); onset[0] = 3.0  # notes start at step 0 only
>>> scores = NoteScores.from_logits(classes, onset)
>>> pitch, struck = beam_search(scores, np.full(4, 72), rng=np.random.default_rng(0))
>>> pitch[0].tolist(), struck[:, 0].tolist()
([64, 55, 48], [True, False, False, False])
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gan_music.models import N_ACCOMPANIMENT, N_CLASSES, REST_CLASS
from gan_music.nn import gumbel_noise
from gan_music.pianoroll import LOWEST_PITCH, REST

_PAIRS = list(itertools.combinations(range(N_ACCOMPANIMENT), 2))  # alto-tenor, alto-bass, ...


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
    """Log-probabilities per step: ``classes`` ``(steps, 3, 49)``, ``onset`` and ``hold`` ``(steps, 3)``.

    ``onset`` is the log-probability that a note starts at the step, ``hold`` that none does.
    """

    classes: NDArray[np.floating]
    onset: NDArray[np.floating]
    hold: NDArray[np.floating]

    @classmethod
    def from_logits(
        cls, class_logits: NDArray[np.floating], onset_logits: NDArray[np.floating]
    ) -> NoteScores:
        """From the generator's raw outputs: class logits and onset logits."""
        shifted = class_logits - class_logits.max(axis=-1, keepdims=True)
        shifted = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        return cls(shifted, -np.logaddexp(0.0, -onset_logits), -np.logaddexp(0.0, onset_logits))

    def __len__(self) -> int:
        return len(self.classes)


def best_lines(scores: NoteScores) -> tuple[NDArray[np.int16], NDArray[np.bool_]]:
    """The network alone: each voice's most likely line, with no rule or penalty.

    Returns pitches ``(steps, 3)`` (``REST`` for silence) and onsets ``(steps, 3)``. Voices
    are read independently and may rest anywhere; the line maximises the sum of the class
    and onset log-probabilities described in the module docstring (a Viterbi search over
    the 49 classes per voice).

    >>> classes = np.log(np.full((4, 3, 49), 1 / 49))
    >>> classes[:, :, 24] = 0.0  # C4 in every voice at every step
    >>> onset = np.array([[3.0] * 3, [-3.0] * 3, [3.0] * 3, [-3.0] * 3])
    >>> pitch, struck = best_lines(NoteScores.from_logits(classes, onset))
    >>> pitch[:, 0].tolist(), struck[:, 0].tolist()  # C4 struck twice: two eighths
    ([60, 60, 60, 60], [True, False, True, False])
    """
    n_steps = len(scores)
    sounding = np.arange(N_CLASSES) != REST_CLASS
    value = scores.classes[0] + np.where(
        sounding, scores.onset[0][:, None], scores.hold[0][:, None]
    )
    came_from = np.zeros((n_steps, N_ACCOMPANIMENT, N_CLASSES), np.int16)
    restruck = np.zeros((n_steps, N_ACCOMPANIMENT, N_CLASSES), bool)
    restruck[0] = sounding
    for t in range(1, n_steps):
        on, hold = scores.onset[t][:, None], scores.hold[t][:, None]
        stay = value + np.where(sounding, np.maximum(on, hold), hold)
        best_previous = value.argmax(axis=1)
        move = value.max(axis=1, keepdims=True) + np.where(sounding, on, hold)
        moving = move > stay
        came_from[t] = np.where(moving, best_previous[:, None], np.arange(N_CLASSES))
        restruck[t] = sounding & (moving | (on > hold))
        value = np.maximum(stay, move) + scores.classes[t]
    classes = np.empty((n_steps, N_ACCOMPANIMENT), np.intp)
    classes[-1] = value.argmax(axis=1)
    voices = np.arange(N_ACCOMPANIMENT)
    for t in range(n_steps - 1, 0, -1):
        classes[t - 1] = came_from[t, voices, classes[t]]
    struck = restruck[np.arange(n_steps)[:, None], voices, classes]
    return _pitches(classes), struck


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
    classes = np.array(scores.classes, dtype=np.float64)
    on = np.array(scores.onset, dtype=np.float64)
    hold = np.array(scores.hold, dtype=np.float64)
    if config.temperature > 0:
        classes += config.temperature * gumbel_noise(rng, classes.shape, np.float64)
        on += config.temperature * gumbel_noise(rng, on.shape, np.float64)
        hold += config.temperature * gumbel_noise(rng, hold.shape, np.float64)
    melody = np.asarray(melody, dtype=np.int64)
    width = min(config.candidates + 1, REST_CLASS)
    ranked = np.argsort(-classes[:, :, :REST_CLASS], axis=-1)[:, :, :width]  # (steps, 3, k)
    rest_only = np.full((N_ACCOMPANIMENT, 1), REST_CLASS)
    voices = np.arange(N_ACCOMPANIMENT)[:, None]

    beam_pitch = np.full((1, N_ACCOMPANIMENT), REST, np.int64)
    beam_score = np.zeros(1)
    parents: list[NDArray[np.intp]] = []
    picks: list[NDArray[np.int64]] = []
    strikes: list[NDArray[np.bool_]] = []
    for t in range(n_steps):
        if melody[t] == REST:
            cand = rest_only
        else:
            cand = _with_held(ranked[t], beam_pitch[int(np.argmax(beam_score))])
        k = cand.shape[1]
        pitch = np.where(cand == REST_CLASS, REST, cand + LOWEST_PITCH)  # (3, k)
        # Per beam entry, voice and candidate: the class score plus its onset or tie.
        same = beam_pitch[:, :, None] == pitch[None]  # (beam, 3, k)
        sounds = pitch[None] != REST
        on_t, hold_t = on[t][None, :, None], hold[t][None, :, None]
        strike = sounds & (~same | (on_t > hold_t))
        unary = classes[t][voices, cand][None] + np.where(
            sounds, np.where(same, np.maximum(on_t, hold_t), on_t), hold_t
        )
        # Every combination of the voices' candidates, as a (beam, k, k, k) array.
        total = (
            (beam_score[:, None] + unary[:, 0])[:, :, None, None]
            + unary[:, 1, None, :, None]
            + unary[:, 2, None, None, :]
        )
        total -= _vertical_penalties(pitch, int(melody[t]), config)[None]
        if t > 0 and config.parallel_penalty:
            count = _parallels(beam_pitch, pitch, int(melody[t - 1]), int(melody[t]))
            total -= config.parallel_penalty * count
        flat = total.ravel()
        keep = min(config.beam_width, len(flat))
        best = np.argpartition(-flat, keep - 1)[:keep]
        parent, new = np.divmod(best, k**N_ACCOMPANIMENT)
        chosen = np.stack(np.unravel_index(new, (k,) * N_ACCOMPANIMENT), axis=1)  # (keep, 3)
        beam_score = flat[best]
        beam_pitch = pitch[voices[:, 0], chosen]
        parents.append(parent)
        picks.append(beam_pitch)
        strikes.append(strike[parent[:, None], voices[:, 0], chosen])
    out_pitch = np.empty((n_steps, N_ACCOMPANIMENT), np.int16)
    out_onset = np.empty((n_steps, N_ACCOMPANIMENT), bool)
    state = int(np.argmax(beam_score))
    for t in range(n_steps - 1, -1, -1):
        out_pitch[t], out_onset[t] = picks[t][state], strikes[t][state]
        state = int(parents[t][state])
    return out_pitch, out_onset


def _pitches(classes: NDArray[np.integer]) -> NDArray[np.int16]:
    return np.where(classes == REST_CLASS, REST, classes + LOWEST_PITCH).astype(np.int16)


def _with_held(ranked: NDArray[np.intp], held: NDArray[np.int64]) -> NDArray[np.intp]:
    """``(3, k)`` classes per voice: the best ones, the last swapped for the pitch ``held`` keeps."""
    held_class = held - LOWEST_PITCH
    missing = (held != REST) & ~(ranked == held_class[:, None]).any(axis=1)
    if not missing.any():
        return ranked
    out: NDArray[np.intp] = ranked.copy()
    out[missing, -1] = held_class[missing]
    return out


def _vertical_penalties(
    pitch: NDArray[np.int64], melody: int, config: DecoderConfig
) -> NDArray[np.float64]:
    """``(k, k, k)``: crossing above the voice over it and gaps wider than an octave.

    ``pitch`` ``(3, k)`` holds each voice's candidate pitches; entry ``[a, t, b]`` scores
    alto candidate ``a`` with tenor ``t`` and bass ``b``.
    """
    alto, tenor, bass = pitch[0][:, None, None], pitch[1][None, :, None], pitch[2][None, None, :]
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
    """``(beam, k, k, k)`` count of voice pairs moving in parallel fifths or octaves.

    ``before`` ``(beam, 3)`` holds the previous step's pitches, ``after`` ``(3, k)`` each
    voice's candidates this step. Voices are compared as
    :func:`gan_music.metrics.parallel_rate` does: both sound before and after, both change
    pitch in the same direction, and ``abs(upper - lower) % 12`` is 7 at both steps or 0 at
    both steps. Each pair is counted on its own small table, and the tables are broadcast
    into the combinations.
    """
    prev = before[:, :, None]  # (beam, 3, 1)
    moved = (prev != REST) & (after[None] != REST) & (prev != after[None])
    motion = np.where(moved, np.sign(after[None] - prev), 0)  # (beam, 3, k): -1, 0 (still), 1
    k = after.shape[1]
    count = np.zeros((len(before), k, k, k))
    for upper, lower in _PAIRS:
        i0 = np.abs(before[:, upper] - before[:, lower]) % 12
        key = np.where((i0 == 0) | (i0 == 7), i0, -1)[:, None, None]  # (beam, 1, 1)
        i1 = (np.abs(after[upper][:, None] - after[lower][None, :]) % 12)[None]  # (1, k, k)
        together = (motion[:, upper, :, None] == motion[:, lower, None, :]) & (
            motion[:, upper, :, None] != 0
        )
        table = (together & (i1 == key)).astype(np.float64)  # (beam, k, k)
        placed: tuple[slice | None, ...] = (slice(None), *_spread((upper, lower)))
        count += table[placed]
    if REST not in (melody_before, melody_after) and melody_before != melody_after:
        rise = np.sign(melody_after - melody_before)
        i0 = np.abs(melody_before - before) % 12  # (beam, 3)
        key = np.where((i0 == 0) | (i0 == 7), i0, -1)[:, :, None]
        i1 = (np.abs(melody_after - after) % 12)[None]  # (1, 3, k)
        with_melody = ((motion == rise) & (i1 == key)).astype(np.float64)  # (beam, 3, k)
        for v in range(N_ACCOMPANIMENT):
            index: tuple[int | slice | None, ...] = (slice(None), v, *_spread((v,)))
            count += with_melody[index]
    return count


def _spread(kept: tuple[int, ...]) -> tuple[slice | None, ...]:
    """Index that puts a table over the voices ``kept`` on their axes of ``(k, k, k)``."""
    return tuple(slice(None) if v in kept else None for v in range(N_ACCOMPANIMENT))
