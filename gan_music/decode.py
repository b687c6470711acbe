"""Writing the notes: the generator run step by step, each voice's next move drawn from it.

The generator (:mod:`gan_music.models`) scores what a voice does at a step knowing everything
before that step. :func:`sample_voices` therefore writes a piece one 16th-note step at a time,
and within a step the bass, then the tenor, then the alto: it computes each voice's 50 scores
(strike one of 48 pitches, rest, hold), adds the learned relation tables
(:mod:`gan_music.relations`), and draws the move from ``softmax(scores / temperature)`` (with
Gumbel noise, so the same random generator gives the same piece). At temperature 1 this
samples the network's own distribution; at 0 it takes the best move at every step.

Two things are structural, not learned: where the melody rests every voice rests, and
elsewhere no voice rests; a voice can only hold a note it plays. One rule may be added on top,
:attr:`DecoderConfig.parallel_penalty`: the score of a move that would make parallel fifths or
octaves with a voice already written (the melody included; defined as
:func:`gan_music.metrics.parallel_rate` counts them) is lowered by that many nats. With it at
0 (:data:`NETWORK_ALONE`) the output is the network's alone.

The causal layers are computed one step at a time from their own earlier inputs, so the
scores are exactly those of the network's teacher-forced pass over the finished piece
(the tests check it); a piece of ``n`` steps costs ``n`` small passes.

>>> import numpy as np
>>> from gan_music.generate import load_model
>>> generator = load_model().generator
>>> melody = np.array([[31] * 8 + [33] * 8])  # G4, then A4 (classes: MIDI 36 + c)
>>> onset = np.zeros((1, 16), bool); onset[0, [0, 8]] = True
>>> classes, struck = sample_voices(generator, melody, onset, np.zeros(1, int), np.random.default_rng(0))
>>> classes.shape, bool((classes[0] < 48).all())  # alto, tenor and bass sound throughout
((1, 16, 3), True)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gan_music.models import (
    N_ACCOMPANIMENT,
    ONSET,
    Discriminator,
    Generator,
    bar_positions,
    melody_inputs,
    relation_layout,
    voice_inputs_from_classes,
)
from gan_music.nn import frozen, gumbel_noise
from gan_music.pianoroll import LOWEST_PITCH, STEPS_PER_BAR, STEPS_PER_BEAT
from gan_music.relations import (
    ALTO,
    BASS,
    HOLD_CLASS,
    KNOWN,
    N_OUTPUTS,
    REST_CLASS,
    SOPRANO,
    TENOR,
    WRITING_ORDER,
    beat_kinds,
    candidate_classes,
)

_NO_SOUND = np.int64(REST_CLASS)
_NOISE_STEPS = 128  #: steps of Gumbel noise drawn at once (the same numbers as step by step)
#: by voice: the lower voices written before it at the same step, as an index array
_WRITTEN_BELOW = {voice: np.array(KNOWN[voice][1:], np.intp) for voice in WRITING_ORDER}


@dataclass(frozen=True)
class DecoderConfig:
    """How the moves are drawn: temperature, the one rule added (in nats), and the drafts.

    With ``drafts`` above 1 and a discriminator, that many drafts are written side by side;
    every ``select_every`` steps (0: only at the end) the discriminator scores each draft's
    last ``critic_steps`` steps (0: all of them), soprano included, and the best one is kept
    and copied into the others, which then go on with draws of their own.
    """

    temperature: float = 1.0
    parallel_penalty: float = 10.0
    drafts: int = 1
    select_every: int = 64
    critic_steps: int = 64


#: The network alone: its own distribution, nothing added, one draft.
NETWORK_ALONE = DecoderConfig(parallel_penalty=0.0)


def sample_voices(
    generator: Generator,
    soprano: NDArray[np.integer],
    onset: NDArray[np.bool_],
    bar_offset: NDArray[np.integer],
    rng: np.random.Generator,
    config: DecoderConfig = DecoderConfig(),
    *,
    steps_per_bar: int = STEPS_PER_BAR,
    steps_per_beat: int = STEPS_PER_BEAT,
    features: NDArray[np.float32] | None = None,
    critic: Discriminator | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Alto, tenor and bass classes and onsets ``(batch, steps, 3)`` under ``soprano``.

    ``soprano`` ``(batch, steps)`` holds the melody's classes (0..47 from MIDI 36, 48 rest)
    and ``onset`` its note starts; each row's first step lies at ``bar_offset`` in its bar.
    ``features`` may pass :meth:`Generator.melody_features` already computed (long pieces
    compute them in chunks). With a ``critic`` and ``config.drafts`` above 1, the drafts are
    written and chosen as :class:`DecoderConfig` says.
    """
    melody: NDArray[np.int64] = np.asarray(soprano, np.int64)
    batch, steps = melody.shape
    if features is None:
        pitch = np.where(melody == REST_CLASS, -1, melody + LOWEST_PITCH)
        features = generator.melody_features(
            melody_inputs(pitch, onset, bar_offset, steps_per_bar, steps_per_beat)
        )
    beat = beat_kinds(bar_positions(steps, bar_offset, steps_per_bar), steps_per_beat)
    drafts = config.drafts if critic is not None else 1
    if drafts > 1:
        rows = np.repeat(np.arange(batch), drafts)
        melody, onset, beat, features = melody[rows], onset[rows], beat[rows], features[rows]
    writer = _Writer(generator, melody, beat, rng, config)
    if drafts == 1:
        return writer.run(features)
    judge = _Judge(critic, melody, np.asarray(onset, bool), drafts, config)  # type: ignore[arg-type]
    return writer.run(features, judge)


class _Writer:
    """The state of one batch being written: every class so far and the causal layers' inputs."""

    def __init__(
        self,
        generator: Generator,
        soprano: NDArray[np.int64],
        beat: NDArray[np.intp],
        rng: np.random.Generator,
        config: DecoderConfig,
    ) -> None:
        self.generator = generator
        self.config = config
        self.rng = rng
        batch, steps = soprano.shape
        self.classes = np.full((batch, steps, 4), _NO_SOUND)
        self.classes[:, :, SOPRANO] = soprano
        self.onset = np.zeros((batch, steps, N_ACCOMPANIMENT), bool)
        self.beat = beat
        self.views = np.zeros((batch, N_ACCOMPANIMENT, N_OUTPUTS), np.float32)
        self.last_note = np.full((batch, N_ACCOMPANIMENT), _NO_SOUND)
        self.note_before = np.full((batch, N_ACCOMPANIMENT), _NO_SOUND)
        self.rows = np.arange(batch)
        self.moves = np.zeros((batch, N_ACCOMPANIMENT), np.intp)  #: this step's moves
        self.noise = np.zeros((0, batch, N_ACCOMPANIMENT, N_OUTPUTS))  #: Gumbel noise, drawn ahead

    def run(
        self, features: NDArray[np.float32], judge: _Judge | None = None
    ) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        generator = self.generator
        batch, steps = self.classes.shape[:2]
        width = features.shape[-1]
        lift = generator.history_lift
        lift_weight, lift_bias = lift.weight.data[0], lift.bias.data
        layers = [(block.conv, block.act.slope) for block in generator.history]
        inputs = [np.zeros((batch, steps, width), features.dtype) for _ in layers]
        for t in range(steps):
            if t % _NOISE_STEPS == 0 and self.config.temperature > 0:  # the same stream as per step
                shape = (min(_NOISE_STEPS, steps - t), batch, N_ACCOMPANIMENT, N_OUTPUTS)
                self.noise = gumbel_noise(self.rng, shape, np.float64)
            h = features[:, t] + self.views.reshape(batch, -1) @ lift_weight + lift_bias
            for (conv, slope), seen in zip(layers, inputs, strict=True):
                seen[:, t] = h
                weight = conv.weight.data
                y = h @ weight[1] + conv.bias.data
                if t >= conv.dilation:
                    y += seen[:, t - conv.dilation] @ weight[0]
                h = h + np.maximum(y, slope * y)  # leaky ReLU (slope < 1)
            self._write_step(t, h)
            if judge is not None and judge.due(t, steps):
                since = judge.since
                self._keep(judge.best(t, self.classes, self.onset), since, t, inputs)
        if judge is not None:
            rows = np.arange(0, batch, judge.drafts)  # every draft is the chosen one now
            return self.classes[rows, :, :N_ACCOMPANIMENT].copy(), self.onset[rows].copy()
        return self.classes[:, :, :N_ACCOMPANIMENT].copy(), self.onset

    def _keep(
        self, chosen: NDArray[np.intp], since: int, t: int, inputs: list[NDArray[np.float32]]
    ) -> None:
        """Copy the chosen draft of each melody into its other drafts (steps ``since..t``)."""
        span = slice(since, t + 1)
        self.classes[:, span] = self.classes[chosen, span]
        self.onset[:, span] = self.onset[chosen, span]
        for seen in inputs:
            seen[:, span] = seen[chosen, span]
        for state in (self.views, self.last_note, self.note_before):
            state[:] = state[chosen]

    def _write_step(self, t: int, h: NDArray[np.float32]) -> None:
        """Draw the bass, then the tenor, then the alto of step ``t`` from the features ``h``."""
        generator, classes, batch = self.generator, self.classes, len(h)
        before = classes[:, t - 1] if t else np.full((batch, 4), _NO_SOUND)
        now = classes[:, t]
        previous = before[:, :N_ACCOMPANIMENT]
        beat = self.beat[:, t, None]
        # What every voice's moves make with the melody and with its own line: all three at once.
        extra = np.zeros((batch, N_ACCOMPANIMENT, N_OUTPUTS))
        layout, table = relation_layout(), None
        if generator.tables is not None:
            table = generator.tables.table.data
            voices = np.arange(N_ACCOMPANIMENT)
            melody_before, melody_now = before[:, SOPRANO, None], now[:, SOPRANO, None]
            extra += table[
                layout.pair_keys(voices, SOPRANO, beat, previous, melody_before, melody_now)
            ]
            extra += table[layout.melodic_keys(voices, beat, previous, self.note_before)]
        penalty = self.config.parallel_penalty
        if penalty:
            extra -= penalty * parallel_moves(
                previous, before[:, SOPRANO, None], now[:, SOPRANO, None]
            )
        silent = now[:, SOPRANO] == REST_CLASS
        rests_before = (previous == REST_CLASS).view(np.int8)  # booleans as 0/1 indices
        extra[~_ALLOWED[rests_before, silent.view(np.int8)[:, None]]] = -np.inf
        temperature = self.config.temperature
        noise = self.noise[t % _NOISE_STEPS] if temperature > 0 else extra
        self.views[:] = 0.0
        for voice in WRITING_ORDER:
            head = generator.heads[voice]
            known = [self.views[:, other] for other in KNOWN[voice] if other != SOPRANO]
            hidden = head.hidden(np.concatenate([h, *known], axis=-1) if known else h)
            logits = head.out(np.maximum(hidden, head.act.slope * hidden))
            logits = logits + extra[:, voice]
            own = previous[:, voice]
            lower = _WRITTEN_BELOW[voice]  # the lower voices already written at this step
            if lower.size:
                own_column, lower_before, lower_now = own[:, None], before[:, lower], now[:, lower]
                if table is not None:
                    pairs = table[
                        layout.pair_keys(voice, lower, beat, own_column, lower_before, lower_now)
                    ]
                if penalty:
                    hits = parallel_moves(own_column, lower_before, lower_now)
                for column in range(lower.size):  # one voice at a time: the same sums as ever
                    if table is not None:
                        logits += pairs[:, column]
                    if penalty:
                        logits -= penalty * hits[:, column]
            if table is not None and voice != BASS:
                logits += table[layout.chord_keys(voice, beat[:, 0], before, now)]
            if temperature > 0:
                logits = logits / temperature + noise[:, voice]
            self._play(t, voice, logits.argmax(axis=-1), own)
        self._end_step(t, previous)

    def _play(
        self, t: int, voice: int, move: NDArray[np.intp], previous: NDArray[np.int64]
    ) -> None:
        """Write each row's move of ``voice`` at step ``t``: what the voices after it read."""
        self.moves[:, voice] = move
        held = move == HOLD_CLASS
        sounding = np.where(held, previous, move)
        self.classes[:, t, voice] = sounding
        self.views[self.rows, voice, sounding] = 1.0
        self.views[:, voice, ONSET] = ~held & (sounding != REST_CLASS)

    def _end_step(self, t: int, previous: NDArray[np.int64]) -> None:
        """The onsets and each line's last two notes, for the three voices of step ``t`` at once."""
        sounding = self.classes[:, t, :N_ACCOMPANIMENT]
        plays = sounding != REST_CLASS
        struck = plays & (self.moves != HOLD_CLASS)
        self.onset[:, t] = struck
        starts = struck | (plays & (previous == REST_CLASS))
        self.note_before[starts] = self.last_note[starts]
        self.last_note[starts] = sounding[starts]


class _Judge:
    """When to compare the drafts, and which is best by the discriminator's score."""

    def __init__(
        self,
        critic: Discriminator,
        soprano: NDArray[np.int64],
        onset: NDArray[np.bool_],
        drafts: int,
        config: DecoderConfig,
    ) -> None:
        self.critic = critic
        self.melody = voice_inputs_from_classes(soprano, onset)[:, :, None]
        self.drafts = drafts
        self.every = config.select_every
        self.window = config.critic_steps
        self.since = 0  #: the first step the drafts may differ at

    def due(self, t: int, steps: int) -> bool:
        return t == steps - 1 or (self.every > 0 and (t + 1) % self.every == 0)

    def best(
        self, t: int, classes: NDArray[np.int64], onset: NDArray[np.bool_]
    ) -> NDArray[np.intp]:
        """Each row's chosen draft (the same for all the drafts of one melody)."""
        start = max(0, t + 1 - self.window) if self.window > 0 else 0
        lower = voice_inputs_from_classes(
            classes[:, start : t + 1, :N_ACCOMPANIMENT], onset[:, start : t + 1]
        )
        with frozen(self.critic):
            score = self.critic(np.concatenate([self.melody[:, start : t + 1], lower], axis=2))
        groups = score.reshape(-1, self.drafts)
        chosen = groups.argmax(axis=1) + np.arange(len(groups)) * self.drafts
        self.since = t + 1
        result: NDArray[np.intp] = np.repeat(chosen, self.drafts)
        return result


def allowed_moves(previous: NDArray[np.integer], silent: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """``(..., 50)``: the moves a voice may make, given its class before and whether the melody rests.

    Where the melody rests only the rest is allowed; elsewhere anything but the rest, and
    hold only if the voice sounds already.

    >>> allowed_moves(np.array([REST_CLASS, 5]), np.array([False, False]))[:, [5, 48, 49]].tolist()
    [[True, False, False], [True, False, True]]
    """
    previous, silent = np.broadcast_arrays(np.asarray(previous), np.asarray(silent, bool))
    allowed = np.repeat(~silent[..., None], N_OUTPUTS, axis=-1)
    allowed[..., REST_CLASS] = silent
    allowed[..., HOLD_CLASS] &= previous != REST_CLASS
    return allowed


#: allowed_moves by (the voice was silent before, the melody is silent now)
_ALLOWED = np.array(
    [[allowed_moves(np.array(p), np.array(s)) for s in (False, True)] for p in (0, REST_CLASS)]
)
_ALLOWED.flags.writeable = False


def policy_gradient(
    logits: NDArray[np.floating],
    soprano: NDArray[np.integer],
    classes: NDArray[np.integer],
    struck: NDArray[np.bool_],
    reward: NDArray[np.floating],
    config: DecoderConfig,
) -> NDArray[np.floating]:
    """The gradient, for the logits, of ``-mean(advantage * log q(moves))``: REINFORCE.

    ``logits`` ``(batch, steps, 3, 50)`` are the generator's teacher-forced scores of pieces
    it wrote itself with :func:`sample_voices` (``classes`` and ``struck`` ``(batch, steps,
    3)`` under ``soprano`` ``(batch, steps)``, all classes); ``q`` is the distribution those
    moves were drawn from (the decoder's penalty, its masks and its temperature included).
    Each piece's ``reward`` ``(batch,)``, less the batch's mean and divided by its standard
    deviation, is its advantage; the sum over moves is divided by their number, as the
    cross-entropy's mean is.

    >>> logits = np.zeros((2, 1, 3, 50))
    >>> soprano, classes = np.full((2, 1), 30), np.array([[[20, 10, 5]], [[21, 11, 6]]])
    >>> grad = policy_gradient(logits, soprano, classes, np.ones((2, 1, 3), bool),
    ...                        np.array([1.0, 0.0]), DecoderConfig(parallel_penalty=0.0))
    >>> bool(grad[0, 0, 0, 20] < 0 < grad[1, 0, 0, 21])  # the better piece's moves gain
    True
    """
    batch, steps = soprano.shape
    now = np.concatenate([classes, np.asarray(soprano)[..., None]], axis=-1).astype(np.int64)
    before = np.full_like(now, REST_CLASS)
    before[:, 1:] = now[:, :-1]
    scores = logits.astype(np.float64)
    if config.parallel_penalty:
        flat_before, flat_now = before.reshape(-1, 4), now.reshape(-1, 4)
        for voice in range(N_ACCOMPANIMENT):
            found = parallels(voice, flat_before, flat_now).reshape(batch, steps, N_OUTPUTS)
            scores[:, :, voice] -= config.parallel_penalty * found
    silent = np.broadcast_to((now[..., SOPRANO] == REST_CLASS)[..., None], classes.shape)
    scores[~allowed_moves(before[..., :N_ACCOMPANIMENT], silent)] = -np.inf
    temperature = max(config.temperature, 1e-6)
    scores /= temperature
    scores -= scores.max(axis=-1, keepdims=True)
    q = np.exp(scores)
    q /= q.sum(axis=-1, keepdims=True)
    held = ~np.asarray(struck, bool) & (np.asarray(classes) != REST_CLASS)
    moves = np.where(held, HOLD_CLASS, classes)
    np.put_along_axis(q, moves[..., None], np.take_along_axis(q, moves[..., None], -1) - 1.0, -1)
    reward = np.asarray(reward, np.float64)
    advantage = (reward - reward.mean()) / (reward.std() + 1e-6)
    q *= advantage[:, None, None, None] / (temperature * q[..., 0].size)
    result: NDArray[np.floating] = q.astype(logits.dtype)
    return result


def parallels(
    voice: int, before: NDArray[np.integer], now: NDArray[np.integer]
) -> NDArray[np.bool_]:
    """``(batch, 50)``: which moves of ``voice`` make parallel fifths or octaves with a known voice.

    ``before`` and ``now`` ``(batch, 4)`` are the classes at the step before and this one
    (alto, tenor, bass, soprano); the known voices are the soprano and the lower voices
    written before ``voice`` at this step (:data:`gan_music.relations.KNOWN`); see
    :func:`parallel_moves`.

    >>> before = np.array([[24, 12, 0, 31]])  # alto C4, tenor C3, bass C2, soprano G4
    >>> now = np.array([[48, 48, 2, 33]])  # bass D2 written, soprano A4
    >>> moves = parallels(0, before, now)[0]  # alto: D4, D5 octaves on the bass; D4, E5 fifths
    >>> np.flatnonzero(moves).tolist()  # with the soprano (E5 crossed above it)
    [26, 38, 40]
    """
    previous = np.asarray(before[:, voice])
    result = np.zeros((len(previous), N_OUTPUTS), bool)
    for other in KNOWN[voice]:
        result |= parallel_moves(previous, before[:, other], now[:, other])
    return result


def parallel_moves_by_step(
    soprano: NDArray[np.integer], lower: NDArray[np.integer]
) -> NDArray[np.bool_]:
    """``(batch, steps, 3, 50)``: :func:`parallels` for every step of known music.

    ``soprano`` ``(batch, steps)`` and ``lower`` ``(batch, steps, 3)`` (alto, tenor, bass) are
    classes; each step's moves start from the step before (rest before the first), and the
    known voices are those :func:`parallels` reads at that step.

    >>> soprano = np.array([[31, 33]]); lower = np.array([[[24, 12, 0], [48, 48, 2]]])
    >>> np.flatnonzero(parallel_moves_by_step(soprano, lower)[0, 1, 0]).tolist()
    [26, 38, 40]
    """
    now = np.concatenate([lower, soprano[..., None]], axis=-1)
    before = np.full_like(now, REST_CLASS)
    before[:, 1:] = now[:, :-1]
    flat_before, flat_now = before.reshape(-1, 4), now.reshape(-1, 4)
    moves = [parallels(voice, flat_before, flat_now) for voice in range(N_ACCOMPANIMENT)]
    return np.stack(moves, axis=1).reshape(*lower.shape, N_OUTPUTS)


def crossing_moves(soprano: NDArray[np.integer], lower: NDArray[np.integer]) -> NDArray[np.bool_]:
    """``(batch, steps, 3, 50)``: the moves of each lower voice that would cross a known voice.

    ``soprano`` ``(batch, steps)`` and ``lower`` ``(batch, steps, 3)`` (alto, tenor, bass) are
    classes; each step's moves start from ``lower``'s classes at the step before (rest before
    the first). As :func:`gan_music.metrics.crossing_rate` counts: a move crosses when the
    note it sounds lies above the soprano sounding now, or, for the tenor, below the bass,
    or, for the alto, below the tenor (the voices written before it at the same step).

    >>> soprano = np.array([[24]]); lower = np.array([[[20, 10, 5]]])  # one step
    >>> moves = crossing_moves(soprano, lower)[0, 0]
    >>> moves[ALTO, [9, 10, 11, 24, 25]].tolist(), moves[BASS, [4, 25]].tolist()
    ([True, False, False, False, True], [False, True])
    """
    previous = np.full_like(lower, REST_CLASS)
    previous[:, 1:] = lower[:, :-1]
    candidate = candidate_classes()[previous]  # (batch, steps, 3, 50)
    sounds = candidate != REST_CLASS
    above = (soprano != REST_CLASS)[..., None, None] & (candidate > soprano[..., None, None])
    crossing: NDArray[np.bool_] = sounds & above
    for voice, below in ((TENOR, BASS), (ALTO, TENOR)):
        under = lower[..., below]
        crossing[:, :, voice] |= (
            sounds[:, :, voice]
            & (under != REST_CLASS)[..., None]
            & (candidate[:, :, voice] < under[..., None])
        )
    return crossing


def parallel_moves(
    previous: NDArray[np.integer], other_before: NDArray[np.integer], other_now: NDArray[np.integer]
) -> NDArray[np.bool_]:
    """``(..., 50)``: the moves that make parallel fifths or octaves with another voice.

    Counted as :func:`gan_music.metrics.parallel_rate` counts: both voices sound at both
    steps, both change pitch in the same direction, and ``abs(upper - lower) % 12`` is 7 at
    both steps or 0 at both. ``previous`` is this voice's class at the step before,
    ``other_before`` and ``other_now`` the other voice's (all broadcast together).
    """
    result: NDArray[np.bool_] = _parallel_table()[previous, other_before, other_now]
    return result


@functools.cache
def _parallel_table() -> NDArray[np.bool_]:
    """``(49, 49, 49, 50)``: :func:`parallel_moves` for every three classes, 5.9 MB, built once."""
    classes = np.arange(REST_CLASS + 1)
    sounds = classes != REST_CLASS
    candidate = candidate_classes()[:, None, None, :]  # (previous, 1, 1, output)
    previous = classes[:, None, None, None]
    before = classes[None, :, None, None]
    now = classes[None, None, :, None]
    both_sound = (
        sounds[:, None, None, None]
        & sounds[None, :, None, None]
        & sounds[None, None, :, None]
        & (candidate != REST_CLASS)
    )
    interval = np.abs(previous - before) % 12
    moves = np.sign(candidate - previous)
    other_move = np.sign(now - before)
    table: NDArray[np.bool_] = (
        both_sound
        & (moves != 0)
        & (moves == other_move)
        & ((interval == 0) | (interval == 7))
        & (np.abs(candidate - now) % 12 == interval)
    )
    table.flags.writeable = False
    return table
