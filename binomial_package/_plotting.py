"""``PlottingMixin``: matplotlib on demand, never shown, always handed back to the caller.

The course package imported matplotlib at import time (without declaring it) and called
``plt.show()`` inside the library, which blocks scripts and fails on servers. Here
matplotlib is imported only when a plot method runs, a missing matplotlib gives an
``ImportError`` that names the extra to install, and every plot method returns what it drew
on (an ``Axes``, or ``PlotPoints`` carrying the ``Figure``) so the caller decides whether to
show it, save it or close it. Figures come from ``pyplot``, so a notebook displays them as
the course's did; a script calls ``plt.show()`` or ``fig.savefig(...)`` itself.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from typing_extensions import Self

INSTALL_HINT = 'plotting needs matplotlib: pip install "binomial-gan-music[plot]"'


class PlotPoints(tuple[list[float], list[float]]):
    """The ``(x, y)`` pair the course's plot methods returned, plus the ``figure`` drawn.

    It unpacks and compares like the course's plain tuple.

    >>> points = PlotPoints([0.0, 1.0], [0.5, 0.5], figure=None)
    >>> x, y = points
    >>> points == ([0.0, 1.0], [0.5, 0.5]), points.x, points.figure
    (True, [0.0, 1.0], None)
    """

    figure: Any

    def __new__(cls, x: list[float], y: list[float], figure: Any) -> Self:
        points = super().__new__(cls, (x, y))
        points.figure = figure
        return points

    @property
    def x(self) -> list[float]:
        """The x values."""
        return self[0]

    @property
    def y(self) -> list[float]:
        """The y values."""
        return self[1]


class PlottingMixin:
    """Mixin for distributions that plot: imports pyplot lazily and finds the axes to draw on."""

    __slots__ = ()

    @staticmethod
    def _pyplot() -> ModuleType:
        """``matplotlib.pyplot``, or an ImportError that says how to install it."""
        try:
            import matplotlib.pyplot as plt
        except ImportError as error:
            raise ImportError(INSTALL_HINT) from error
        return plt

    def _axes(self, ax: Axes | None) -> Axes:
        """The axes to draw on: the caller's, or those of a new figure."""
        if ax is not None:
            return ax
        _, new_ax = self._pyplot().subplots()
        axes: Axes = new_ax
        return axes
