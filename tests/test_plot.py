"""Pictures render off-screen to real PNG files with the expected content, and fail clearly."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pytest

from gan_music import plot
from gan_music.errors import GanMusicError, OutputError
from gan_music.pianoroll import REST, VOICES, Score

mpl.use("Agg")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

NOTES = [
    (0, 0, 4, 67), (0, 4, 4, 67), (0, 8, 8, 72), (0, 16, 16, 71),  # a repeated G
    (1, 0, 16, 64), (1, 16, 16, 62),
    (2, 0, 8, 60), (2, 8, 8, 55), (2, 16, 16, 55),
    (3, 0, 32, 48),
]  # fmt: skip
SCORE = Score.from_notes(32, NOTES)


def test_pianoroll_draws_one_bar_per_note_in_four_colours(tmp_path: Path) -> None:
    figure = plot.plot_pianoroll(SCORE, title="test chorale")
    (ax,) = figure.axes
    assert [len(container) for container in ax.containers] == [4, 2, 3, 1]
    colours = {tuple(container[0].get_facecolor()) for container in ax.containers}
    assert len(colours) == 4
    soprano = ax.containers[0]
    assert [bar.get_x() for bar in soprano] == [0, 4, 8, 16]  # repeated notes stay two bars
    assert [bar.get_width() for bar in soprano] == [4, 4, 8, 16]
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == list(VOICES)
    assert ax.get_title() == "test chorale"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3"]
    assert "C4" in [t.get_text() for t in ax.get_yticklabels()]
    target = plot.save_figure(figure, tmp_path / "roll.png")
    assert target.read_bytes()[:8] == PNG_SIGNATURE


def test_pianoroll_numbers_bars_after_a_pickup() -> None:
    pickup = Score.from_notes(36, [(0, 0, 36, 60)], n_voices=1)
    ax = plot.plot_pianoroll(pickup, first_downbeat=4).axes[0]
    assert list(ax.get_xticks()) == [4, 20, 36]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3"]


@pytest.mark.parametrize(
    ("steps_per_bar", "steps_per_beat", "bars", "beats"),
    [
        (12, None, [2, 14], [2, 6, 10, 14, 18, 22]),  # 3/4 after a pickup of two 16ths
        (12, 6, [2, 14], [2, 8, 14, 20]),  # 6/8: beats are dotted quarters
    ],
)
def test_pianoroll_draws_the_melody_s_metre(
    steps_per_bar: int, steps_per_beat: int | None, bars: list[int], beats: list[int]
) -> None:
    score = Score.from_notes(24, [(0, 0, 24, 60)], n_voices=1)
    figure = plot.plot_pianoroll(
        score, steps_per_bar=steps_per_bar, first_downbeat=2, steps_per_beat=steps_per_beat
    )
    axis = figure.axes[0].xaxis
    assert [round(t) for t in axis.get_majorticklocs()] == bars
    assert [round(t) for t in axis.get_minorticklocs() if t not in bars] == [
        b for b in beats if b not in bars
    ]


def test_pianoroll_of_silence_still_draws() -> None:
    silent = Score(np.full((16, 4), REST, dtype=np.int16), np.zeros((16, 4), dtype=bool))
    ax = plot.plot_pianoroll(silent).axes[0]
    assert [len(container) for container in ax.containers] == [0, 0, 0, 0]


def test_pianoroll_can_draw_on_a_given_axes() -> None:
    from matplotlib.figure import Figure

    figure = Figure()
    left, right = figure.subplots(1, 2)
    assert plot.plot_pianoroll(SCORE, ax=right) is figure
    assert len(right.containers) == 4
    assert len(left.containers) == 0


def test_comparison_shares_the_pitch_scale(tmp_path: Path) -> None:
    high = SCORE.transpose(12)
    figure = plot.plot_comparison(SCORE, high, titles=("model", "Bach"))
    left, right = figure.axes
    assert (left.get_title(), right.get_title()) == ("model", "Bach")
    assert left.get_ylim() == right.get_ylim()
    low, top = left.get_ylim()
    assert low < 48  # both scores fit
    assert top > 84
    assert len(left.containers) == len(right.containers) == 4
    path = plot.save_figure(figure, tmp_path / "compare.png")
    assert path.read_bytes()[:8] == PNG_SIGNATURE


def _write_losses(path: Path, rows: list[str]) -> Path:
    path.write_text("step,g_loss,d_loss,g_adv,elapsed_s\n" + "".join(f"{r}\n" for r in rows))
    return path


def test_losses_raw_and_smoothed_per_network(tmp_path: Path) -> None:
    rows = [f"{step},{5.0 - step / 100},{1.0 + (step % 2) / 10},0,0" for step in range(1, 201)]
    figure = plot.plot_losses(_write_losses(tmp_path / "losses.csv", rows))
    generator, discriminator = figure.axes
    assert generator.get_ylabel() == "generator loss"
    assert discriminator.get_xlabel() == "step"
    raw, smoothed = discriminator.get_lines()
    alpha = raw.get_alpha()
    assert alpha is not None
    assert alpha < 0.5
    assert np.ptp(np.asarray(raw.get_ydata())) == pytest.approx(0.1)
    # 200 steps: a 5-step mean, which leaves a fifth of an alternating series' swing
    middle = np.asarray(smoothed.get_ydata())[10:-10]
    assert np.ptp(middle) == pytest.approx(0.1 / 5)
    assert len(generator.get_lines()) == 2
    path = plot.save_figure(figure, tmp_path / "losses.png")
    assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_losses_keep_the_last_entry_of_a_repeated_step(tmp_path: Path) -> None:
    rows = ["1,3.0,1.0,0,0", "2,2.0,1.0,0,0", "2,9.0,1.0,0,0", "3,1.0,1.0,0,0"]
    figure = plot.plot_losses(_write_losses(tmp_path / "losses.csv", rows))
    raw = figure.axes[0].get_lines()[0]
    ticks = figure.axes[1].get_xticks()
    assert (ticks == np.round(ticks)).all()  # whole steps only
    assert np.asarray(raw.get_xdata()).tolist() == [1, 2, 3]
    assert np.asarray(raw.get_ydata()).tolist() == [3.0, 9.0, 1.0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("step,g_loss\n1,2.0\n", "no d_loss column"),
        ("step,g_loss,d_loss\n", "no steps yet"),
        ("step,g_loss,d_loss\n1,nan-ish,2\n", "not a number"),
        ("step,g_loss,d_loss\n1,2\n", "not a number"),
    ],
)
def test_bad_loss_files_are_user_errors(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "losses.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(GanMusicError, match=message):
        plot.plot_losses(path)


def test_smooth_keeps_constants_and_length() -> None:
    values = np.full(7, 2.5)
    assert plot.smooth(values, 3).tolist() == values.tolist()
    ramp = np.arange(10.0)
    assert plot.smooth(ramp, 0).tolist() == ramp.tolist()
    assert plot.smooth(ramp, 2)[2:-2].tolist() == ramp[2:-2].tolist()  # a line stays a line
    assert plot.smooth(ramp, 2)[0] == 1.0  # the first point averages 0, 1 and 2


def test_save_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    target = tmp_path / "roll.png"
    target.write_bytes(b"old")
    figure = plot.plot_pianoroll(SCORE)
    with pytest.raises(OutputError, match="already exists"):
        plot.save_figure(figure, target)
    assert target.read_bytes() == b"old"
    plot.save_figure(figure, target, force=True)
    assert target.read_bytes()[:8] == PNG_SIGNATURE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["roll.png"]  # no temporary file left


def test_save_wants_a_png_name(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"end the name in \.png"):
        plot.save_figure(plot.plot_pianoroll(SCORE), tmp_path / "roll.jpg")
    assert not list(tmp_path.iterdir())


def test_saved_picture_has_the_figure_size(tmp_path: Path) -> None:
    from matplotlib.image import imread

    figure = plot.plot_pianoroll(SCORE)
    image = imread(plot.save_figure(figure, tmp_path / "roll.png"))
    width, height = figure.get_size_inches() * plot.DPI
    assert image.shape[:2] == (round(height), round(width))


def test_missing_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r'pip install "binomial-gan-music\[plot\]"'):
        plot.plot_pianoroll(SCORE)
