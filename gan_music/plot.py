"""Pictures: piano rolls of scores, a generated score beside Bach's, and training loss curves.

matplotlib is an optional extra (``pip install "binomial-gan-music[plot]"``), imported only
inside these functions. They build figures with matplotlib's object API (no pyplot, no
window, no global state), so they work on a server and in tests; :func:`save_figure` writes
one to a PNG file atomically.

>>> from gan_music.pianoroll import Score
>>> score = Score.from_notes(16, [(0, 0, 8, 72), (0, 8, 8, 74), (1, 0, 16, 67), (3, 0, 16, 48)])
>>> figure = plot_pianoroll(score, title="two notes over a fifth")
>>> [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
['soprano', 'alto', 'tenor', 'bass']
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from gan_music._io import atomic_path
from gan_music.errors import GanMusicError, OutputError
from gan_music.pianoroll import STEPS_PER_BAR, VOICES, Score, beat_steps

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: One colour per voice, soprano to bass (colour-blind-safe Okabe-Ito hues).
VOICE_COLOURS = ("#D55E00", "#0072B2", "#009E73", "#CC79A7")
PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
LOSS_COLUMNS = ("g_loss", "d_loss")
DPI = 120
#: The longest piece a piano roll draws: every shipped chorale fits (the longest has 48 bars).
#: Past it one picture is unreadable, and drawing it costs minutes and gigabytes.
MAX_PLOT_BARS = 64


def _figure(**kwargs: Any) -> Figure:
    """A new matplotlib Figure, or an ImportError that says how to install matplotlib."""
    try:
        from matplotlib.figure import Figure
    except ImportError as err:
        msg = 'pictures need matplotlib: pip install "binomial-gan-music[plot]"'
        raise ImportError(msg) from err
    return Figure(**kwargs)


def pitch_name(midi: int) -> str:
    """Scientific pitch name of a MIDI number, middle C (60) being C4.

    >>> pitch_name(60), pitch_name(70), pitch_name(36)
    ('C4', 'Bb4', 'C2')
    """
    return f"{PITCH_NAMES[midi % 12]}{midi // 12 - 1}"


def _voice_names(n_voices: int) -> tuple[str, ...]:
    return VOICES if n_voices == len(VOICES) else tuple(f"voice {v + 1}" for v in range(n_voices))


def _pitch_span(*scores: Score) -> tuple[int, int]:
    sounding = np.concatenate([score.pitch[score.pitch >= 0] for score in scores])
    if not len(sounding):
        return 60, 72
    return int(sounding.min()), int(sounding.max())


def _draw_roll(
    ax: Axes,
    score: Score,
    *,
    steps_per_bar: int,
    first_downbeat: int,
    legend: bool,
    steps_per_beat: int | None = None,
) -> None:
    names = _voice_names(score.n_voices)
    notes = score.to_notes()
    for voice in range(score.n_voices):
        mine = [note for note in notes if note[0] == voice]
        ax.barh(
            [midi for _, _, _, midi in mine],
            [length for _, _, length, _ in mine],
            left=[start for _, start, _, _ in mine],
            height=0.8,
            align="center",
            color=VOICE_COLOURS[voice % len(VOICE_COLOURS)],
            edgecolor="white",  # keeps repeated notes apart
            linewidth=0.6,
            label=names[voice],
        )
    beat = beat_steps(steps_per_bar) if steps_per_beat is None else steps_per_beat
    _time_axis(
        ax, score.n_steps, steps_per_bar=steps_per_bar, first_downbeat=first_downbeat, beat=beat
    )
    low, high = _pitch_span(score)
    _pitch_axis(ax, low, high)
    if legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)


def _time_axis(
    ax: Axes, n_steps: int, *, steps_per_bar: int, first_downbeat: int, beat: int
) -> None:
    bar_lines = np.arange(first_downbeat % steps_per_bar, n_steps + 1, steps_per_bar)
    numbers = 1 + (bar_lines - first_downbeat) // steps_per_bar  # bar 1 starts at first_downbeat
    ax.set_xticks(bar_lines, labels=[str(number) for number in numbers])
    beats = np.arange(first_downbeat % beat, n_steps + 1, beat)
    ax.set_xticks(beats, minor=True)
    ax.grid(axis="x", which="major", color="0.6", linewidth=0.8)
    ax.grid(axis="x", which="minor", color="0.85", linewidth=0.5, linestyle=":")
    ax.set_axisbelow(True)
    ax.set_xlim(0, max(n_steps, 1))
    ax.set_xlabel("bar")


def _pitch_axis(ax: Axes, low: int, high: int) -> None:
    span = range(low - 1, high + 2)
    c_notes = [p for p in span if p % 12 == 0]
    g_notes = [p for p in span if p % 12 == 7]
    ax.set_yticks(c_notes, labels=[pitch_name(p) for p in c_notes])  # C lines across the roll
    ax.set_yticks(g_notes, labels=[pitch_name(p) for p in g_notes], minor=True)
    ax.tick_params(axis="y", which="minor", labelsize="small")
    ax.grid(axis="y", which="major", color="0.8", linewidth=0.6)
    ax.set_ylim(low - 1.5, high + 1.5)
    ax.set_ylabel("pitch")


def _figure_width(n_steps: int) -> float:
    bars = n_steps / STEPS_PER_BAR
    return float(max(np.clip(2.5 + 1.6 * bars, 6.0, 18.0), 2.5 + 0.4 * bars))  # >= 0.4 in a bar


def check_plot_length(n_steps: int, steps_per_bar: int = STEPS_PER_BAR) -> None:
    """Refuse, at once, a piece longer than :data:`MAX_PLOT_BARS` bars for a piano roll.

    >>> check_plot_length(64 * 16)
    >>> check_plot_length(10_000 * 16)
    Traceback (most recent call last):
    ...
    gan_music.errors.GanMusicError: the piece has 10000 bars and a piano roll draws at most 64 (one picture of more is unreadable): drop --plot, or plot a part of at most 64 bars
    """
    bars = -(-n_steps // max(steps_per_bar, 1))
    if bars > MAX_PLOT_BARS:
        msg = (
            f"the piece has {bars} bars and a piano roll draws at most {MAX_PLOT_BARS} "
            f"(one picture of more is unreadable): drop --plot, or plot a part of at most "
            f"{MAX_PLOT_BARS} bars"
        )
        raise GanMusicError(msg)


def plot_pianoroll(
    score: Score,
    *,
    title: str | None = None,
    ax: Axes | None = None,
    steps_per_bar: int = STEPS_PER_BAR,
    first_downbeat: int = 0,
    steps_per_beat: int | None = None,
) -> Figure:
    """Draw every voice of ``score`` as coloured note bars over time (bars and beats) and pitch.

    Draws on ``ax`` if given (and returns its figure), otherwise on a new figure sized to the
    score's length. Bar lines every ``steps_per_bar`` steps, bar 1 at ``first_downbeat``
    (a pickup before it is bar 0); beat lines every ``steps_per_beat`` (default: the beat
    :func:`~gan_music.pianoroll.beat_steps` gives for the bar).

    >>> from gan_music.pianoroll import Score
    >>> figure = plot_pianoroll(Score.from_notes(32, [(0, 0, 32, 60)], n_voices=1))
    >>> [label.get_text() for label in figure.axes[0].get_xticklabels()]
    ['1', '2', '3']
    """
    check_plot_length(score.n_steps, steps_per_bar)
    if ax is None:
        figure = _figure(figsize=(_figure_width(score.n_steps), 4.5), dpi=DPI, layout="constrained")
        ax = figure.subplots()
    else:
        figure = ax.figure.figure  # the root figure, also when ax is inside a subfigure
    _draw_roll(
        ax,
        score,
        steps_per_bar=steps_per_bar,
        first_downbeat=first_downbeat,
        legend=True,
        steps_per_beat=steps_per_beat,
    )
    if title is not None:
        ax.set_title(title)
    return figure


def plot_comparison(
    generated: Score,
    reference: Score,
    *,
    titles: tuple[str, str] = ("generated", "Bach"),
    steps_per_bar: int = STEPS_PER_BAR,
    first_downbeat: int = 0,
) -> Figure:
    """Two piano rolls side by side on one pitch scale: ``generated`` left, ``reference`` right.

    >>> from gan_music.pianoroll import Score
    >>> low = Score.from_notes(16, [(0, 0, 16, 48)], n_voices=1)
    >>> high = Score.from_notes(16, [(0, 0, 16, 79)], n_voices=1)
    >>> figure = plot_comparison(low, high)
    >>> left, right = figure.axes
    >>> left.get_title(), right.get_title(), left.get_ylim() == right.get_ylim()
    ('generated', 'Bach', True)
    """
    check_plot_length(max(generated.n_steps, reference.n_steps), steps_per_bar)
    width = _figure_width(max(generated.n_steps, reference.n_steps))
    figure = _figure(figsize=(min(2 * width, 20.0), 4.5), dpi=DPI, layout="constrained")
    axes = figure.subplots(1, 2, sharey=True)
    for ax, score, title, legend in zip(
        axes, (generated, reference), titles, (False, True), strict=True
    ):
        _draw_roll(
            ax, score, steps_per_bar=steps_per_bar, first_downbeat=first_downbeat, legend=legend
        )
        ax.set_title(title)
    low, high = _pitch_span(generated, reference)
    _pitch_axis(axes[0], low, high)
    axes[1].set_ylabel("")
    return figure


def _read_losses(csv_path: str | os.PathLike[str]) -> dict[str, NDArray[np.float64]]:
    path = Path(csv_path)
    try:
        with path.open(newline="") as stream:
            reader = csv.DictReader(stream)
            columns = ("step", *LOSS_COLUMNS)
            missing = [name for name in columns if name not in (reader.fieldnames or [])]
            if missing:
                msg = f"{path} has no {', '.join(missing)} column: give a training run's losses.csv"
                raise GanMusicError(msg)
            rows = [[float(row[name]) for name in columns] for row in reader]
    except FileNotFoundError:
        msg = f"{path} does not exist: give the losses.csv of a training run"
        raise GanMusicError(msg) from None
    except (ValueError, TypeError) as err:
        if isinstance(err, GanMusicError):
            raise
        msg = f"{path} holds a value that is not a number: give an intact losses.csv"
        raise GanMusicError(msg) from None
    if not rows:
        msg = f"{path} has no steps yet: train for at least one step first"
        raise GanMusicError(msg)
    table = np.array(rows)
    # A resumed run may log a step again: keep the last entry of each step, in step order.
    steps, last = np.unique(table[::-1, 0], return_index=True)
    table = table[::-1][last]
    return {"step": steps, **{name: table[:, i + 1] for i, name in enumerate(LOSS_COLUMNS)}}


def smooth(values: NDArray[np.float64], half_width: int) -> NDArray[np.float64]:
    """Centred moving average: the mean of the ``2 * half_width + 1`` points around each point,
    fewer at the two ends.

    >>> smooth(np.array([0.0, 3.0, 0.0, 3.0]), 1).tolist()
    [1.5, 1.0, 2.0, 1.5]
    """
    totals = np.concatenate([[0.0], np.cumsum(values)])
    index = np.arange(len(values))
    low = np.maximum(index - half_width, 0)
    high = np.minimum(index + half_width + 1, len(values))
    result: NDArray[np.float64] = (totals[high] - totals[low]) / (high - low)
    return result


def plot_losses(csv_path: str | os.PathLike[str]) -> Figure:
    """Generator and discriminator loss per step from a training run's ``losses.csv``.

    Each panel shows the raw values faintly and a centred moving average over about a
    fiftieth of the run (an odd number of steps) on top. Steps without a value (NaN: the
    discriminator before it starts to play) are left out; a panel with none says so.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "losses.csv"
    >>> _ = path.write_text("step,g_loss,d_loss\\n1,2.0,nan\\n2,1.8,1.3\\n3,1.7,1.2\\n")
    >>> figure = plot_losses(path)
    >>> [ax.get_ylabel() for ax in figure.axes], len(figure.axes[0].get_lines())
    (['generator loss', 'discriminator loss'], 2)
    """
    losses = _read_losses(csv_path)
    figure = _figure(figsize=(8.0, 5.0), dpi=DPI, layout="constrained")
    axes = figure.subplots(2, 1, sharex=True)
    labels = ("generator loss", "discriminator loss")
    for ax, name, label, colour in zip(axes, LOSS_COLUMNS, labels, VOICE_COLOURS, strict=False):
        finite = np.isfinite(losses[name])
        steps, values = losses["step"][finite], losses[name][finite]
        half_width = len(steps) // 100
        window = 2 * half_width + 1
        ax.plot(steps, values, color=colour, alpha=0.25, linewidth=0.8, label="step")
        ax.plot(
            steps,
            smooth(values, half_width),
            color=colour,
            linewidth=1.6,
            label=f"mean of {window} steps",
        )
        ax.set_ylabel(label)
        ax.grid(color="0.9")
        if not len(steps):
            ax.text(0.5, 0.5, "not trained in this run", transform=ax.transAxes, ha="center")
        elif window > 1:
            ax.legend(loc="upper right", fontsize="small")
    from matplotlib.ticker import MaxNLocator

    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))  # no "step 2.5" on short runs
    axes[-1].set_xlabel("step")
    axes[0].set_title(f"training losses, {int(losses['step'][-1])} steps")
    return figure


def save_figure(figure: Figure, path: str | os.PathLike[str], *, force: bool = False) -> Path:
    """Write ``figure`` to ``path`` as a PNG, atomically; refuse to overwrite unless ``force``.

    >>> import tempfile, pathlib
    >>> from gan_music.pianoroll import Score
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "roll.png"
    >>> figure = plot_pianoroll(Score.from_notes(4, [(0, 0, 4, 60)], n_voices=1))
    >>> save_figure(figure, target).read_bytes()[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    target = check_picture_path(path)
    with atomic_path(target, force=force) as tmp:
        write_png(figure, tmp)
    return target


def check_picture_path(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` as a Path if its name ends in ``.png``; raise :class:`OutputError` if not."""
    target = Path(path)
    if target.suffix.lower() != ".png":
        msg = f"{target} is not a .png name: pictures are written as PNG, so end the name in .png"
        raise OutputError(msg)
    return target


def write_png(figure: Figure, path: str | os.PathLike[str]) -> None:
    """Write ``figure`` to ``path`` as PNG, in place: callers make it atomic (:func:`save_figure`)."""
    figure.savefig(path, format="png", dpi=DPI)
