"""What each possible next note would form with the notes already written: keys into learned tables.

The generator writes one step at a time, and within a step the bass first, then the tenor,
then the alto, so when it chooses a voice's next note it knows the melody, everything before
this step, and the lower voices written at this step. For each of the 50 things the voice can
do (strike one of 48 pitches, rest, hold its note) this module names the musical relations the
result would have, as integer keys into one table of learned numbers
(:class:`~gan_music.nn.lookup.TableSum`); the generator adds the looked-up numbers to its
scores. Nothing here is a rule: every number starts at zero and is learned from Bach. The
relations are the ones four-part writing is about:

- **pair** (one key per voice already known at this step, the melody included): the interval
  the note would make with that voice, in semitones up to +-30, given the interval class the
  two voices had at the step before, which way the other voice moved and which way this one
  would move. Parallel fifths and octaves, crossings, spacing and doubling are all pair
  relations, so the network can learn to avoid or prefer each, in each beat position;
- **melodic**: the leap from the voice's current pitch (up to +-12) given its previous leap,
  and whether the note is struck or held;
- **chord** (tenor and alto): the type of chord the known voices would make with the note
  (major, minor, diminished, ... as in :data:`gan_music.critic.CHORD_TYPES`) and which chord
  member the bass has; for the alto, which completes the four voices, also the type of the
  chord at the step before.

Each key also says whether the step falls on a beat, on an eighth between beats or on a 16th
(:func:`beat_kinds`). Classes: ``0..47`` pitches from MIDI 36, ``48`` rest, ``49`` hold (the
generator's outputs, :mod:`gan_music.models`). Voices are numbered alto 0, tenor 1, bass 2, soprano 3.

>>> import numpy as np
>>> relations = Relations()
>>> before = np.array([28, 19, 12, 31])  # alto E4, tenor G3, bass C3, soprano G4
>>> now = np.array([-1, 17, 10, 33])  # tenor F3, bass A#2 written; soprano A4
>>> keys = relations.keys(0, np.array(0), before, now, np.array(REST_CLASS))
>>> keys.shape, int((keys != relations.zero).sum(axis=-1)[0])  # 5 relations, 48 + hold pitches
((5, 50), 49)
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

from gan_music.pianoroll import N_PITCHES

REST_CLASS = N_PITCHES  #: class 48: the voice is silent (classes 0..47 are MIDI 36..83)
HOLD_CLASS = N_PITCHES + 1  #: class 49: the voice holds the note it plays
N_OUTPUTS = N_PITCHES + 2  #: what a voice can do at a step: strike 48 pitches, rest, hold

ALTO, TENOR, BASS, SOPRANO = 0, 1, 2, 3
WRITING_ORDER = (BASS, TENOR, ALTO)
#: the voices known when each lower voice is written, besides everything before the step
KNOWN = {BASS: (SOPRANO,), TENOR: (SOPRANO, BASS), ALTO: (SOPRANO, BASS, TENOR)}
BEAT_KINDS = 3  #: on a beat, on an eighth between beats, on a 16th
PAIR_SPAN = 30  #: intervals up to 30 semitones each way; wider ones share the last key
LEAP_SPAN = 12  #: melodic leaps up to an octave each way
_PAIR_WIDTH = 2 * PAIR_SPAN + 1
_LEAP_WIDTH = 2 * LEAP_SPAN + 1
_NO_LEAP = _LEAP_WIDTH  #: no previous leap (a first note, or a rest before)
_INTERVAL_CLASSES = 13  #: 0..11, then "one of the two was silent"
SHAPES = (
    (0, 4, 7),
    (0, 3, 7),
    (0, 3, 6),
    (0, 4, 8),
    (0, 4, 7, 10),
    (0, 3, 7, 10),
    (0, 3, 6, 10),
    (0, 4, 7, 11),
    (0, 3, 6, 9),
)  #: chord types in the order of gan_music.critic.CHORD_TYPES; then one pitch class, two, other
N_CHORD_KINDS = len(SHAPES) + 3
_NO_CHORD = N_CHORD_KINDS  #: the step before had no sounding voice
_BASS_MEMBERS = 5  #: root, third, fifth, seventh of a known shape; or none


def beat_kinds(position: NDArray[np.integer], steps_per_beat: int) -> NDArray[np.intp]:
    """0 on a beat, 1 on an eighth between beats, 2 on a 16th; ``position`` is the step in its bar.

    >>> beat_kinds(np.arange(8), 4).tolist()
    [0, 2, 1, 2, 0, 2, 1, 2]
    """
    position = np.asarray(position)
    return np.where(position % steps_per_beat == 0, 0, np.where(position % 2 == 0, 1, 2))


@functools.cache
def _chord_tables() -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Two lookups by 12-bit pitch-class set: its chord (kind and bass member), and its kind.

    The first, ``(4096, 13)``, is indexed by the set and the bass's pitch class (12 when the
    bass is silent) and holds ``kind * 5 + member``: the member (root, third, fifth, seventh
    of a known shape; or none) the bass is of the chord. The second, ``(4096,)``, is the
    set's kind alone, with the empty set as "no chord" (the step before was silent).
    """
    kind = np.full(1 << 12, len(SHAPES) + 2, np.intp)  # other
    for mask in range(1 << 12):
        size = mask.bit_count()
        if size <= 2:
            kind[mask] = len(SHAPES) + (size == 2)  # one pitch class, two
    member = np.full((1 << 12, 13), _BASS_MEMBERS - 1, np.intp)  # column 12: a silent bass
    for index, shape in enumerate(SHAPES):
        for root in range(12):
            mask = sum(1 << ((root + degree) % 12) for degree in shape)
            kind[mask] = index
            for position, degree in enumerate(shape):  # a symmetric chord (diminished 7,
                pitch_class = (root + degree) % 12  # augmented) is every one of its members'
                member[mask, pitch_class] = min(member[mask, pitch_class], position)  # root
    chord = kind[:, None] * _BASS_MEMBERS + member
    heard = kind.copy()
    heard[0] = _NO_CHORD
    chord.flags.writeable = heard.flags.writeable = False
    return chord, heard


@functools.cache
def _candidate_tables() -> dict[str, NDArray[np.intp]]:
    """Lookup tables by class (and output): every part of a key that does not depend on the beat.

    Read by :class:`Relations` instead of recomputing the same arithmetic at every step.
    """
    classes = np.arange(N_PITCHES + 1)  # 48 pitches, rest
    outputs = np.arange(N_OUTPUTS)
    previous = classes[:, None]
    sounding = np.where(outputs < REST_CLASS, outputs, REST_CLASS)[None, :]
    candidate = np.where(outputs == HOLD_CLASS, previous, sounding)  # (49, 50)
    plays = candidate != REST_CLASS
    after_sound = plays & (previous != REST_CLASS)
    motion = np.where(after_sound, np.sign(candidate - previous) + 1, 1)
    other = classes[None, :, None]
    gap = np.clip(candidate[:, None, :] - other, -PAIR_SPAN, PAIR_SPAN) + PAIR_SPAN
    pair = motion[:, None, :] * _PAIR_WIDTH + gap  # (previous, other now, output)
    pair = np.where(plays[:, None, :] & (other != REST_CLASS), pair, -1)
    leap = np.clip(candidate - previous, -LEAP_SPAN, LEAP_SPAN) + LEAP_SPAN
    struck = outputs[None, :] != HOLD_CLASS
    melodic = np.where(after_sound, leap * 2 + struck, -1)
    pitch_class = np.where(plays, candidate % 12, -1)
    first, second = np.meshgrid(classes, classes, indexing="ij")  # (49, 49)
    both = (first != REST_CLASS) & (second != REST_CLASS)
    tables = {
        "candidate": candidate,
        "pair": pair,
        "melodic": melodic,
        "pitch_class": pitch_class,
        # (this voice before, other voice before): the interval class, 12 if one was silent
        "interval": np.where(both, (first - second) % 12, _INTERVAL_CLASSES - 1),
        # (other voice before, other voice now): down 0, same 1, up 2; 1 if one was silent
        "motion": np.where(both, np.sign(second - first) + 1, 1),
        # (this voice before, the note before that): the leap between them, or none
        "leap": np.where(
            both, np.clip(first - second, -LEAP_SPAN, LEAP_SPAN) + LEAP_SPAN, _NO_LEAP
        ),
        "bit": np.where(classes != REST_CLASS, 1 << (classes % 12), 0),  # pitch-class bit
        "bass class": np.where(classes != REST_CLASS, classes % 12, 12),  # 12: silent
        "candidate bit": np.where(pitch_class >= 0, 1 << np.maximum(pitch_class, 0), 0),
    }
    for table in tables.values():
        table.flags.writeable = False
    return tables


def candidate_classes() -> NDArray[np.intp]:
    """``(49, 50)``: the class a voice sounds after each of its 50 moves, by its class before.

    >>> candidate_classes()[[5, REST_CLASS]][:, [5, 7, REST_CLASS, HOLD_CLASS]].tolist()
    [[5, 7, 48, 5], [5, 7, 48, 48]]
    """
    return _candidate_tables()["candidate"]


class Relations:
    """The table layout: which keys each voice's choice reads, and how many entries there are.

    Per voice the keys come in :attr:`slots` rows (bass 2, tenor 4, alto 5), padded with
    :attr:`zero` to :attr:`max_slots` where arrays of all three voices are stacked. The
    rows are :meth:`pair_keys` with each known voice (soprano first, then the lower voices in
    writing order), :meth:`melodic_keys`, and for tenor and alto :meth:`chord_keys`.
    """

    def __init__(self) -> None:
        sizes: list[tuple[str, int]] = []
        for voice in WRITING_ORDER:
            sizes += [(f"pair {voice} {known}", _pair_size()) for known in KNOWN[voice]]
            sizes.append((f"melodic {voice}", BEAT_KINDS * (_LEAP_WIDTH + 1) * _LEAP_WIDTH * 2))
            if voice == TENOR:
                sizes.append((f"chord {voice}", BEAT_KINDS * N_CHORD_KINDS * _BASS_MEMBERS))
            if voice == ALTO:
                sizes.append(
                    (
                        f"chord {voice}",
                        BEAT_KINDS * (N_CHORD_KINDS + 1) * N_CHORD_KINDS * _BASS_MEMBERS,
                    )
                )
        self.offsets: dict[str, int] = {}
        total = 0
        for name, size in sizes:
            self.offsets[name] = total
            total += size
        self.size = total  #: learned entries; the zero entry comes after them
        self.slots = {voice: 2 + len(KNOWN[voice]) - (voice == BASS) for voice in WRITING_ORDER}
        self.max_slots = max(self.slots.values())
        # offsets as arrays, so that several voices' keys can be computed in one call
        self.pair_offset = np.full((3, 4), -1, np.int64)  # (voice, known voice)
        for voice in WRITING_ORDER:
            for known in KNOWN[voice]:
                self.pair_offset[voice, known] = self.offsets[f"pair {voice} {known}"]
        self.melodic_offset = np.array([self.offsets[f"melodic {v}"] for v in range(3)])

    @property
    def zero(self) -> int:
        """The key that adds nothing (the table's last entry, fixed at zero)."""
        return self.size

    def keys(
        self,
        voice: int,
        beat: NDArray[np.integer],
        before: NDArray[np.integer],
        now: NDArray[np.integer],
        previous_note: NDArray[np.integer],
    ) -> NDArray[np.int64]:
        """``(..., slots[voice], 50)`` keys for each output of ``voice``.

        ``beat`` ``(...)`` from :func:`beat_kinds`; ``before`` ``(..., 4)`` the classes of
        alto, tenor, bass and soprano at the step before (rest where there is none);
        ``now`` ``(..., 4)`` the classes at this step, read only for the soprano and the
        voices written before ``voice``; ``previous_note`` ``(...)`` the class of the note
        ``voice`` played before the one it sounds at the step before (rest if none).
        """
        previous = before[..., voice]
        rows = [
            self.pair_keys(voice, known, beat, previous, before[..., known], now[..., known])
            for known in KNOWN[voice]
        ]
        rows.append(self.melodic_keys(voice, beat, previous, previous_note))
        if voice != BASS:
            rows.append(self.chord_keys(voice, beat, before, now))
        return np.stack(rows, axis=-2)

    def pair_keys(
        self,
        voice: int | NDArray[np.integer],
        known: int | NDArray[np.integer],
        beat: NDArray[np.integer],
        previous: NDArray[np.integer],
        other_before: NDArray[np.integer],
        other_now: NDArray[np.integer],
    ) -> NDArray[np.int64]:
        """``(..., 50)``: the interval each move would make with the voice ``known``.

        ``voice`` and ``known`` may be arrays that broadcast with the others, so one call
        computes several voices' keys; ``previous`` is ``voice``'s class at the step before,
        ``other_before`` and ``other_now`` the known voice's at the step before and now.
        """
        tables = _candidate_tables()
        context = np.asarray(beat) * _INTERVAL_CLASSES + tables["interval"][previous, other_before]
        context = context * 3 + tables["motion"][other_before, other_now]
        part = tables["pair"][previous, other_now]  # (..., 50)
        key = (self.pair_offset[voice, known] + context * (3 * _PAIR_WIDTH))[..., None] + part
        result: NDArray[np.int64] = np.where(part >= 0, key, self.zero)
        return result

    def melodic_keys(
        self,
        voice: int | NDArray[np.integer],
        beat: NDArray[np.integer],
        previous: NDArray[np.integer],
        previous_note: NDArray[np.integer],
    ) -> NDArray[np.int64]:
        """``(..., 50)``: the leap each move would make, given the leap before it."""
        tables = _candidate_tables()
        context = np.asarray(beat) * (_LEAP_WIDTH + 1) + tables["leap"][previous, previous_note]
        part = tables["melodic"][previous]
        key = (self.melodic_offset[voice] + context * (_LEAP_WIDTH * 2))[..., None] + part
        result: NDArray[np.int64] = np.where(part >= 0, key, self.zero)
        return result

    def chord_keys(
        self,
        voice: int,
        beat: NDArray[np.integer],
        before: NDArray[np.integer],
        now: NDArray[np.integer],
    ) -> NDArray[np.int64]:
        """``(..., 50)``: the chord each move of the tenor or alto would complete (see above)."""
        chord_of, heard_kind = _chord_tables()
        tables = _candidate_tables()
        bit = tables["bit"]
        candidate_bit = tables["candidate bit"][before[..., voice]]  # (..., 50)
        known = bit[now[..., SOPRANO]] | bit[now[..., BASS]]
        if voice == ALTO:
            known = known | bit[now[..., TENOR]]
        mask = known[..., None] | candidate_bit
        chord = chord_of[mask, tables["bass class"][now[..., BASS]][..., None]]
        width = N_CHORD_KINDS * _BASS_MEMBERS
        context = np.asarray(beat)
        if voice == ALTO:
            heard = (
                bit[before[..., 0]]
                | bit[before[..., 1]]
                | bit[before[..., 2]]
                | bit[before[..., 3]]
            )
            context = context * (N_CHORD_KINDS + 1) + heard_kind[heard]
        key = (self.offsets[f"chord {voice}"] + context * width)[..., None] + chord
        result: NDArray[np.int64] = np.where(candidate_bit > 0, key, self.zero)
        return result

    def teacher_keys(
        self,
        lower: NDArray[np.integer],
        lower_onset: NDArray[np.bool_],
        soprano: NDArray[np.integer],
        beat: NDArray[np.integer],
    ) -> NDArray[np.int32]:
        """``(batch, steps, 3, max_slots, 50)`` keys when every step is known (training).

        ``lower`` ``(batch, steps, 3)`` classes of alto, tenor and bass, ``lower_onset``
        their onsets, ``soprano`` ``(batch, steps)`` classes, ``beat`` ``(batch, steps)``.
        Each step's keys read the real notes before it, as teacher forcing does.
        """
        now = np.concatenate([lower, soprano[..., None]], axis=-1).astype(np.int64)
        before = np.full_like(now, REST_CLASS)
        before[:, 1:] = now[:, :-1]
        notes_before = previous_notes(lower, lower_onset)
        batch, steps = soprano.shape
        out = np.full((batch, steps, 3, self.max_slots, N_OUTPUTS), self.zero, np.int32)
        for voice in WRITING_ORDER:
            previous_note = np.full((batch, steps), REST_CLASS, np.int64)
            previous_note[:, 1:] = notes_before[:, :-1, voice]
            keys = self.keys(voice, beat, before, now, previous_note)
            out[:, :, voice, : keys.shape[-2]] = keys
        return out


def _pair_size() -> int:
    return BEAT_KINDS * _INTERVAL_CLASSES * 3 * 3 * _PAIR_WIDTH


def previous_notes(classes: NDArray[np.integer], onset: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Per step and voice, the class of the note before the one sounding there (rest if none).

    ``classes`` and ``onset`` ``(batch, steps, voices)``. A note starts where an onset is
    marked, where the pitch changes or where sound follows silence; the previous note is
    remembered across rests.

    >>> c = np.array([[0, 0, 2, 48, 5, 5]])[..., None]
    >>> previous_notes(c, np.array([[1, 0, 1, 0, 1, 1]], bool)[..., None])[0, :, 0].tolist()
    [48, 48, 0, 0, 2, 5]
    """
    lines: NDArray[np.int64] = np.asarray(classes, np.int64)
    batch, steps, voices = lines.shape
    out = np.full(lines.shape, REST_CLASS, np.int64)
    last = np.full((batch, voices), REST_CLASS, np.int64)
    before = np.full((batch, voices), REST_CLASS, np.int64)
    previous = np.full((batch, voices), REST_CLASS, np.int64)
    for step in range(steps):
        current = lines[:, step]
        starts = (current != REST_CLASS) & (
            onset[:, step] | (previous == REST_CLASS) | (current != previous)
        )
        before = np.where(starts, last, before)
        last = np.where(starts, current, last)
        out[:, step] = before
        previous = current
    return out
