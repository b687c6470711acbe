"""The example melodies the studio offers: a Bach chorale and three well-known tunes.

Each tune is written here as bars of ``(sixteenths, MIDI pitch)`` and becomes a
:class:`~gan_music.midi.Melody` through the same reader a MIDI file goes through.

>>> [example.key for example in EXAMPLES]
['bach', 'ode-to-joy', 'amazing-grace', 'row-your-boat']
>>> melody = example_melody("amazing-grace")
>>> melody.steps_per_bar, melody.first_downbeat
(12, 4)
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass

from gan_music import midi
from gan_music.errors import GanMusicError
from gan_music.midi import DEFAULT_TICKS_PER_BEAT, MELODY_VELOCITY, Melody

Tune = tuple[tuple[int, int], ...]  #: (length in sixteenths, MIDI pitch) in order


@dataclass(frozen=True)
class Example:
    """One example melody: its key in the page's list, its title, and how to make it."""

    key: str
    title: str
    bpm: int = 0
    metre: tuple[int, int] = (4, 4)
    pickup: int = 0  #: sixteenths before the first bar line
    tune: Tune = ()

    def melody(self) -> Melody:
        """The example as a Melody (the Bach chorale is gan_music's own example)."""
        if not self.tune:
            return midi.example_melody()
        tpb = DEFAULT_TICKS_PER_BEAT
        notes, step = [], 0
        for length, pitch in self.tune:
            start, end = step * tpb // 4, (step + length) * tpb // 4
            notes.append((start, end, pitch, MELODY_VELOCITY))
            step += length
        meta = midi._metre_events(tpb, self.bpm, self.pickup, *self.metre)
        return midi.melody_from_notes(notes, tpb, meta, step * tpb // 4, name=self.title)


D4, E4, Fs4, G4, A4, B4 = 62, 64, 66, 67, 69, 71
C5, D5, E5, F5, G5, C6 = 72, 74, 76, 77, 79, 84

# fmt: off
EXAMPLES = (
    Example("bach", "Bach: Was mein Gott will, das gscheh allzeit (BWV 244.25), 4/4"),
    Example("ode-to-joy", "Beethoven: Ode to Joy, 4/4", bpm=100, tune=(
        (4, Fs4), (4, Fs4), (4, G4), (4, A4),
        (4, A4), (4, G4), (4, Fs4), (4, E4),
        (4, D4), (4, D4), (4, E4), (4, Fs4),
        (6, Fs4), (2, E4), (8, E4),
        (4, Fs4), (4, Fs4), (4, G4), (4, A4),
        (4, A4), (4, G4), (4, Fs4), (4, E4),
        (4, D4), (4, D4), (4, E4), (4, Fs4),
        (6, E4), (2, D4), (8, D4),
    )),
    Example("amazing-grace", "Amazing Grace, 3/4", bpm=90, metre=(3, 4), pickup=4, tune=(
        (4, D4),
        (8, G4), (2, B4), (2, G4),
        (8, B4), (4, A4),
        (8, G4), (4, E4),
        (8, D4), (4, D4),
        (8, G4), (2, B4), (2, G4),
        (8, B4), (4, A4),
        (12, D5),
        (8, D5),
    )),
    Example("row-your-boat", "Row, Row, Row Your Boat, 6/8", bpm=100, metre=(6, 8), tune=(
        (6, C5), (6, C5),
        (4, C5), (2, D5), (6, E5),
        (4, E5), (2, D5), (4, E5), (2, F5),
        (12, G5),
        (2, C6), (2, C6), (2, C6), (2, G5), (2, G5), (2, G5),
        (2, E5), (2, E5), (2, E5), (2, C5), (2, C5), (2, C5),
        (4, G5), (2, F5), (4, E5), (2, D5),
        (12, C5),
    )),
)
# fmt: on


def example_melody(key: str) -> Melody:
    """The example melody called ``key``; a GanMusicError naming the choices for another key."""
    return copy.deepcopy(_made(key))  # the caller may change its copy


@functools.cache
def _made(key: str) -> Melody:
    """Each example made once: the Bach chorale is read from the shipped data set."""
    for example in EXAMPLES:
        if example.key == key:
            return example.melody()
    msg = f"no example melody {key!r}: choose one of {', '.join(e.key for e in EXAMPLES)}"
    raise GanMusicError(msg)
