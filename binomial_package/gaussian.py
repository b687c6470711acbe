"""``Gaussian``: the normal distribution, with the course's API and the fixes it needed."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np

from binomial_package import _stats
from binomial_package._elementwise import ArrayInput, FloatArray, Scalar, elementwise
from binomial_package._erfc import erfc
from binomial_package._plotting import PlotPoints, PlottingMixin
from binomial_package._validation import flag, sample_request, whole_number
from binomial_package.general import Distribution

if TYPE_CHECKING:
    from matplotlib.axes import Axes

_SQRT_2PI = math.sqrt(2 * math.pi)
_LN_SQRT_2PI = math.log(_SQRT_2PI)


class Gaussian(Distribution, PlottingMixin):
    """Gaussian (normal) distribution with mean ``mu`` and standard deviation ``sigma``.

    ``sigma`` may be 0 (all the mass at the mean), as in ``statistics.NormalDist``; then
    ``pdf`` and ``cdf`` are not defined and raise ``ValueError``.

    >>> Gaussian(25, 3) + Gaussian(30, 4)
    mean 55, standard deviation 5.0
    >>> round(Gaussian(25, 2).pdf(25), 5)
    0.19947
    """

    __slots__ = ()

    def __init__(self, mu: float = 0, sigma: float = 1) -> None:
        super().__init__(mu, sigma)

    def calculate_mean(self) -> float:
        """Set ``mean`` to the mean of ``data`` and return it.

        >>> g = Gaussian()
        >>> g.data = [1, 2, 3, 4]
        >>> g.calculate_mean()
        2.5
        """
        self.mean = _stats.mean(_stats.checked_data(self.data, at_least=1, purpose="a mean"))
        return self.mean

    def calculate_stdev(self, sample: bool | Literal[0, 1] = True) -> float:
        """Set ``stdev`` to the standard deviation of ``data`` and return it.

        ``sample=True`` divides by n - 1 (an estimate from a sample), ``False`` by n; the
        course's ``1`` and ``0`` (and numpy bools) mean the same, other values are refused.
        As in the course, this also sets ``mean``.

        >>> g = Gaussian()
        >>> g.data = [2, 4, 4, 4, 5, 5, 7, 9]
        >>> g.calculate_stdev(sample=False), g.mean
        (2.0, 5.0)
        >>> g.calculate_stdev(0)  # the course's spelling of sample=False
        2.0
        """
        sample = flag(sample, "sample")
        purpose = "a sample standard deviation" if sample else "a standard deviation"
        values = _stats.checked_data(self.data, at_least=2 if sample else 1, purpose=purpose)
        self.mean = _stats.mean(values)
        self.stdev = _stats.stdev(values, sample=sample)
        return self.stdev

    @overload
    def pdf(self, x: Scalar) -> float: ...

    @overload
    def pdf(self, x: ArrayInput) -> FloatArray: ...

    @elementwise("x")
    def pdf(self, x: FloatArray) -> FloatArray:
        """Probability density at ``x``: a float for a number, an array for an array.

        >>> Gaussian(0, 1).pdf([0, 1]).round(5).tolist()
        [0.39894, 0.24197]
        """
        z = self._standardise(x)
        coefficient = 1.0 / (self.stdev * _SQRT_2PI)
        if math.isinf(coefficient):  # a subnormal sigma: stay in log space
            result: FloatArray = np.exp(-0.5 * z * z - math.log(self.stdev) - _LN_SQRT_2PI)
            return result
        return coefficient * np.exp(-0.5 * z * z)

    @overload
    def cdf(self, x: Scalar) -> float: ...

    @overload
    def cdf(self, x: ArrayInput) -> FloatArray: ...

    @elementwise("x")
    def cdf(self, x: FloatArray) -> FloatArray:
        """``P(X <= x)``: a float for a number, an array for an array.

        >>> Gaussian(0, 1).cdf(0), round(Gaussian(25, 2).cdf(27), 5)
        (0.5, 0.84134)
        """
        z = self._standardise(x)
        return 0.5 * erfc(-z / math.sqrt(2))

    def _standardise(self, x: FloatArray) -> FloatArray:
        """``(x - mean) / stdev``, without overflowing where only the difference is huge."""
        if self.stdev == 0:
            msg = "pdf and cdf are not defined for a Gaussian with stdev 0 (a point mass)"
            raise ValueError(msg)
        difference = x - self.mean
        overflowed = np.isinf(difference) & np.isfinite(x)
        z: FloatArray = difference / self.stdev
        if overflowed.any():
            halves = x[overflowed] / 2 - self.mean / 2
            z[overflowed] = halves / self.stdev * 2
        return z

    def sample(self, size: int, seed: int | np.random.Generator | None = None) -> FloatArray:
        """``size`` random draws, from numpy's ``Generator`` (``seed`` makes them repeatable).

        >>> g = Gaussian(10, 2)
        >>> draws = g.sample(1000, seed=1)
        >>> draws.shape, bool((draws == g.sample(1000, seed=1)).all()), bool(9.8 < draws.mean() < 10.2)
        ((1000,), True, True)
        """
        count, generator = sample_request(size, seed)
        draws: FloatArray = generator.normal(self.mean, self.stdev, count)
        return draws

    @classmethod
    def from_data(cls, data: Iterable[float], sample: bool | Literal[0, 1] = True) -> Gaussian:
        """A Gaussian fitted to ``data``, which it keeps (``fit`` is the same method).

        >>> Gaussian.from_data([1, 2, 3, 4, 5])
        mean 3.0, standard deviation 1.5811388300841898
        """
        gaussian = cls()
        gaussian.data = data
        gaussian.calculate_stdev(sample)
        return gaussian

    fit = from_data

    def plot_histogram(self, ax: Axes | None = None) -> Axes:
        """Draw a histogram of ``data`` (on ``ax`` if given) and return the axes; never shows."""
        values = _stats.checked_data(self.data, at_least=1, purpose="a histogram")
        axes = self._axes(ax)
        axes.hist(values)
        axes.set_title("Histogram of Data")
        axes.set_xlabel("data")
        axes.set_ylabel("count")
        return axes

    def plot_histogram_pdf(self, n_spaces: int = 50) -> PlotPoints:
        """Plot the normalised histogram of ``data`` above this pdf; return the ``(x, y)`` drawn.

        ``x`` runs in ``n_spaces`` steps from the smallest data value (the largest is not
        included, as in the course). The result also carries the ``figure``.
        """
        steps = whole_number(n_spaces, "n_spaces", 1, 10**7)
        values = _stats.checked_data(self.data, at_least=1, purpose="a histogram")
        low, high = min(values), max(values)
        interval = 1.0 * (high - low) / steps
        x = low + interval * np.arange(steps)
        y = self.pdf(x)
        figure, axes = self._pyplot().subplots(2, sharex=True)
        figure.subplots_adjust(hspace=0.5)
        axes[0].hist(values, density=True)
        axes[0].set_title("Normed Histogram of Data")
        axes[0].set_ylabel("Density")
        axes[1].plot(x, y)
        axes[1].set_title("Normal Distribution for \n Sample Mean and Sample Standard Deviation")
        axes[1].set_ylabel("Density")
        return PlotPoints(x.tolist(), y.tolist(), figure)

    def __add__(self, other: Any) -> Gaussian:
        """The sum of two independent Gaussians: means add, variances add.

        >>> Gaussian(1e308, 1) + Gaussian(1e308, 1)
        Traceback (most recent call last):
        ValueError: the sum's mean (1e+308 + 1e+308) is beyond the float range
        """
        if not isinstance(other, Gaussian):
            return NotImplemented
        total = self.mean + other.mean
        if math.isinf(total):
            msg = f"the sum's mean ({self.mean} + {other.mean}) is beyond the float range"
            raise ValueError(msg)
        result = Gaussian()
        result.mean = total
        result.stdev = math.hypot(self.stdev, other.stdev)
        return result
