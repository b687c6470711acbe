"""Errors caused by the user's input. The command line prints their message and exits with status 2.

Each message names the problem and the fix, in one line. They subclass ``ValueError`` so
code that already catches ``ValueError`` keeps working.
"""

from __future__ import annotations


class GanMusicError(ValueError):
    """Bad input to gan_music: the message says what is wrong and what to do."""


class MidiError(GanMusicError):
    """A MIDI file that cannot be read, or holds no usable melody."""


class CheckpointError(GanMusicError):
    """A checkpoint file that is missing, damaged, unsafe or of the wrong shape or version."""


class OutputError(GanMusicError):
    """An output path that cannot or should not be written."""
