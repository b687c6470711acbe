"""``Binomial``: successes in n independent trials of probability p, with the course's API."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, overload

import numpy as np
from numpy.typing import NDArray

from binomial_package import _stats
from binomial_package._binomial_cdf import binomial_cdf, support_window
from binomial_package._elementwise import ArrayInput, FloatArray, Scalar, elementwise
from binomial_package._logpmf import binomial_pmf
from binomial_package._plotting import PlotPoints, PlottingMixin
from binomial_package._validation import (
    MAX_TRIALS,
    Checked,
    data_values,
    probability,
    sample_request,
    trials,
    whole_number,
)
from binomial_package.general import Distribution

if TYPE_CHECKING:
    from matplotlib.axes import Axes


#: Up to this many possible values, sampling inverts the cdf (a binary search per draw),
#: which beats numpy's general binomial sampler; wider distributions use numpy's.
_INVERSION_LIMIT = 256


class Binomial(Distribution, PlottingMixin):
    """Binomial distribution: the number of successes in ``size`` trials of probability ``prob``.

    ``p`` is a probability in [0, 1]; ``n`` a whole number of trials from 0 to 10**15 (a
    float such as ``20.0`` is accepted and stored as the int 20; a bool is refused).
    ``mean`` and ``stdev`` are set from them, and after a change to ``p`` or ``n`` are
    brought up to date by ``calculate_mean()`` and ``calculate_stdev()``, as in the course.

    >>> Binomial(0.4, 20)
    mean 8.0, standard deviation 2.1908902300206643, p 0.4, n 20
    >>> round(Binomial(0.4, 20).pdf(5), 5)
    0.07465
    """

    __slots__ = ("_n", "_p")
    _dict_required = ("p", "n")
    _dict_optional = ("mean", "stdev", "data")

    p = Checked(probability)
    n = Checked(trials)

    def __init__(self, prob: float = 0.5, size: int = 20) -> None:
        self.p = probability(prob, "prob")
        self.n = trials(size, "size")
        super().__init__(self.calculate_mean(), self.calculate_stdev())

    def calculate_mean(self) -> float:
        """Set ``mean`` to ``n p`` and return it."""
        self.mean = self.p * self.n
        return self.mean

    def calculate_stdev(self) -> float:
        """Set ``stdev`` to ``sqrt(n p (1 - p))`` and return it."""
        self.stdev = math.sqrt(self.n * self.p * (1 - self.p))
        return self.stdev

    def replace_stats_with_data(self) -> tuple[float, int]:
        """Treat ``data`` as 0/1 outcomes: set ``n`` to their number, ``p`` to their mean.

        Also updates ``mean`` and ``stdev``; returns ``(p, n)``.

        >>> b = Binomial()
        >>> b.data = [0, 1, 1, 0]
        >>> b.replace_stats_with_data()
        (0.5, 4)
        """
        values = _stats.checked_data(self.data, at_least=1, purpose="replace_stats_with_data")
        for index, value in enumerate(values):
            if value not in (0.0, 1.0):
                msg = (
                    f"data[{index}] is {value}: binomial data must be outcomes 0 or 1; "
                    "for counts of successes out of n trials each, use Binomial.from_counts(counts, n)"
                )
                raise ValueError(msg)
        self.n = len(values)
        self.p = 1.0 * sum(1 for value in values if value == 1.0) / len(values)
        self.mean = self.calculate_mean()
        self.stdev = self.calculate_stdev()
        return self.p, self.n

    @overload
    def pmf(self, k: Scalar) -> float: ...

    @overload
    def pmf(self, k: ArrayInput) -> FloatArray: ...

    @elementwise("k")
    def pmf(self, k: FloatArray) -> FloatArray:
        """``P(X = k)`` for whole ``k`` in 0..n: a float for a number, an array for an array.

        Exact to about 13 significant digits for any n (Loader's method, see ``_logpmf``).

        >>> Binomial(0.5, 10**6).pmf(500_000)  # doctest: +ELLIPSIS
        0.000797884...
        >>> Binomial(0.4, 20).pmf(21)
        Traceback (most recent call last):
        ValueError: k must be whole numbers in 0..20 (n), got 21.0
        """
        outside = (k != np.floor(k)) | (k < 0) | (k > self.n)
        if outside.any():
            msg = f"k must be whole numbers in 0..{self.n} (n), got {k[outside].flat[0]}"
            raise ValueError(msg)
        return binomial_pmf(k, self.n, self.p)

    #: The course's name for :meth:`pmf` (a binomial has a mass function, not a density).
    pdf = pmf

    @overload
    def cdf(self, k: Scalar) -> float: ...

    @overload
    def cdf(self, k: ArrayInput) -> FloatArray: ...

    @elementwise("k")
    def cdf(self, k: FloatArray) -> FloatArray:
        """``P(X <= k)`` for any real ``k`` (0 below 0, 1 from n on); NaN is refused.

        >>> Binomial(0.5, 2).cdf([0, 1, 2.5]).tolist()
        [0.25, 0.75, 1.0]
        """
        return binomial_cdf(k, self.n, self.p)

    def sample(self, size: int, seed: int | np.random.Generator | None = None) -> NDArray[np.int64]:
        """``size`` random draws, from numpy's ``Generator`` (``seed`` makes them repeatable).

        >>> b = Binomial(0.4, 20)
        >>> draws = b.sample(1000, seed=1)
        >>> draws.shape, bool((draws == b.sample(1000, seed=1)).all()), bool(7.8 < draws.mean() < 8.2)
        ((1000,), True, True)
        """
        count, generator = sample_request(size, seed)
        if 0.0 < self.p < 1.0:
            low, high = support_window(self.n, self.p)
            if high - low < _INVERSION_LIMIT:  # few values: invert the exact cdf
                cdf = binomial_cdf(np.arange(low, high, dtype=np.float64), self.n, self.p)
                drawn = np.searchsorted(cdf, generator.random(count), side="right") + low
                return drawn.astype(np.int64)
        draws: NDArray[np.int64] = generator.binomial(self.n, self.p, count).astype(np.int64)
        return draws

    @classmethod
    def from_data(cls, data: Iterable[float]) -> Binomial:
        """A Binomial fitted to 0/1 outcomes, which it keeps (``fit`` is the same method).

        >>> Binomial.from_data([0, 1, 1, 1])
        mean 3.0, standard deviation 0.8660254037844386, p 0.75, n 4
        """
        binomial = cls()
        binomial.data = data
        binomial.replace_stats_with_data()
        return binomial

    fit = from_data

    @classmethod
    def from_counts(cls, counts: Iterable[float], n: int) -> Binomial:
        """A Binomial fitted to counts of successes, each out of the same known ``n`` trials.

        Use it for what ``sample`` returns, or for "3 of 10 seeds sprouted in each tray".
        ``p`` is the total of the counts over the number of trials, ``len(counts) * n``
        (correctly rounded), ``n`` is the ``n`` given, and the counts are kept in ``data``.
        ``from_data`` is the fit for 0/1 outcomes of single trials.

        >>> Binomial.from_counts([3, 5, 4], n=10)
        mean 4.0, standard deviation 1.5491933384829668, p 0.4, n 10
        >>> fitted = Binomial.from_counts(Binomial(0.4, 20).sample(1000, seed=7), 20)
        >>> round(fitted.p, 2), fitted.n
        (0.4, 20)
        >>> Binomial.from_counts([3, 11], n=10)
        Traceback (most recent call last):
        ValueError: counts[1] is 11: a count must be a whole number of successes in 0..10 (n)
        """
        trial_count = whole_number(n, "n", 1, MAX_TRIALS)
        values = data_values(counts, "counts")
        if not values:
            msg = "counts is empty: from_counts needs at least 1 count"
            raise ValueError(msg)
        successes = 0
        for index, value in enumerate(values):
            if value != math.floor(value) or not 0 <= value <= trial_count:
                msg = (
                    f"counts[{index}] is {value}: a count must be a whole number of "
                    f"successes in 0..{trial_count} (n)"
                )
                raise ValueError(msg)
            successes += int(value)
        binomial = cls(successes / (len(values) * trial_count), trial_count)
        binomial.data = values
        return binomial

    def plot_bar(self, ax: Axes | None = None) -> Axes:
        """Bar chart of the expected failures and successes; returns the axes, never shows."""
        axes = self._axes(ax)
        axes.bar(x=["0", "1"], height=[(1 - self.p) * self.n, self.p * self.n])
        axes.set_title("Bar Chart of Data")
        axes.set_xlabel("outcome")
        axes.set_ylabel("count")
        return axes

    def plot_bar_pdf(self, ax: Axes | None = None) -> PlotPoints:
        """Bar chart of the pmf over 0..n; returns ``(x, y)`` and the ``figure``, never shows."""
        x = np.arange(self.n + 1, dtype=np.float64)
        y = self.pmf(x)
        axes = self._axes(ax)
        axes.bar(x, y)
        axes.set_title("Distribution of Outcomes")
        axes.set_ylim(0, 1)
        axes.set_ylabel("Probability")
        axes.set_xlabel("Outcome")
        return PlotPoints(list(range(self.n + 1)), y.tolist(), axes.figure)

    def __add__(self, other: Any) -> Binomial:
        """The sum of two independent binomials with the same ``p``: the trials add up.

        >>> Binomial(0.4, 20) + Binomial(0.5, 60)
        Traceback (most recent call last):
        ValueError: cannot add binomials with different p (0.4 and 0.5): the sum is binomial only when p is equal
        """
        if not isinstance(other, Binomial):
            return NotImplemented
        if self.p != other.p:
            msg = (
                f"cannot add binomials with different p ({self.p} and {other.p}): "
                "the sum is binomial only when p is equal"
            )
            raise ValueError(msg)
        if self.n + other.n > MAX_TRIALS:
            msg = f"the sum has n = {self.n + other.n}, more than the {MAX_TRIALS} allowed"
            raise ValueError(msg)
        return Binomial(self.p, self.n + other.n)

    def __repr__(self) -> str:
        return f"mean {self.mean}, standard deviation {self.stdev}, p {self.p}, n {self.n}"

    def _parameters(self) -> tuple[Any, ...]:
        return (self.p, self.n)

    def _after_from_dict(self, given: frozenset[str]) -> None:
        # mean and stdev follow from p and n: a dict may leave them out, and one that gives
        # others (a hand-edited file, a mix-up of two objects) contradicts itself.
        stated = {"mean": self.mean, "stdev": self.stdev}
        derived = {"mean": self.calculate_mean(), "stdev": self.calculate_stdev()}
        for name, formula in (("mean", "n * p"), ("stdev", "sqrt(n * p * (1 - p))")):
            if name in given and not math.isclose(stated[name], derived[name], rel_tol=1e-9):
                msg = (
                    f"Binomial.from_dict: {name} {stated[name]} contradicts p {self.p} and "
                    f"n {self.n} ({formula} = {derived[name]}): correct it or leave it out"
                )
                raise ValueError(msg)
