"""Plot methods of Gaussian and Binomial: course titles and points, returned objects, no show()."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from binomial_package import Binomial, Gaussian

DATA = Path(__file__).parent / "data"


@pytest.fixture
def pyplot(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """pyplot on the Agg backend, where calling show() fails the test; figures closed after."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda *_a, **_k: pytest.fail("plt.show() was called"))
    yield plt
    plt.close("all")


@pytest.fixture
def course_gaussian() -> Gaussian:
    gaussian = Gaussian()
    gaussian.read_data_file(DATA / "numbers.txt")
    gaussian.calculate_stdev()
    return gaussian


def bar_heights(axes: Any) -> list[float]:
    return [patch.get_height() for patch in axes.patches]


def test_plot_histogram_returns_the_axes(course_gaussian: Gaussian, pyplot: Any) -> None:
    axes = course_gaussian.plot_histogram()
    assert (axes.get_title(), axes.get_xlabel(), axes.get_ylabel()) == (
        "Histogram of Data",
        "data",
        "count",
    )
    assert sum(bar_heights(axes)) == len(course_gaussian.data)
    _, own_axes = pyplot.subplots()
    assert course_gaussian.plot_histogram(ax=own_axes) is own_axes


@pytest.mark.usefixtures("pyplot")
def test_plot_histogram_pdf_returns_the_course_points(course_gaussian: Gaussian) -> None:
    points = course_gaussian.plot_histogram_pdf(n_spaces=10)
    x, y = points
    interval = (330 - 1) / 10
    assert x == [1 + interval * i for i in range(10)]
    assert y == pytest.approx([course_gaussian.pdf(value) for value in x], rel=1e-15)
    top, bottom = points.figure.axes
    assert top.get_title() == "Normed Histogram of Data"
    assert bottom.lines[0].get_xdata().tolist() == x
    with pytest.raises(ValueError, match="n_spaces must be a whole number"):
        course_gaussian.plot_histogram_pdf(0)


@pytest.mark.usefixtures("pyplot")
def test_plot_histogram_needs_data() -> None:
    with pytest.raises(ValueError, match="data is empty: a histogram needs at least 1 value"):
        Gaussian().plot_histogram()


@pytest.mark.usefixtures("pyplot")
def test_plot_bar_draws_expected_counts() -> None:
    axes = Binomial(0.25, 8).plot_bar()
    assert bar_heights(axes) == [6.0, 2.0]
    assert axes.get_title() == "Bar Chart of Data"


def test_plot_bar_pdf_returns_the_course_points_and_the_figure(pyplot: Any) -> None:
    binomial = Binomial(0.4, 20)
    points = binomial.plot_bar_pdf()
    x, y = points
    assert x == list(range(21))
    assert y == binomial.pmf(range(21)).tolist()
    (axes,) = points.figure.axes
    assert bar_heights(axes) == y
    assert axes.get_ylim() == (0.0, 1.0)
    _, own = pyplot.subplots()
    assert binomial.plot_bar_pdf(ax=own).figure is own.figure


@pytest.mark.parametrize(
    "plot",
    [Binomial().plot_bar, Binomial().plot_bar_pdf, Gaussian.from_data([1, 2]).plot_histogram],
    ids=["plot_bar", "plot_bar_pdf", "plot_histogram"],
)
def test_plotting_without_matplotlib_names_the_extra(
    plot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "binomial-gan-music\[plot\]"'):
        plot()
