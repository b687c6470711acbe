"""The binomial cdf by exact summation of the pmf over the values that matter.

Terms far in the tails are below the smallest float, so they cannot change a double result.
Chernoff's bound ``P(X <= j) <= exp(-n KL(j/n || p))`` (for j below the mean, and its mirror
above) says exactly where that happens: outside ``[low, high]``, where ``n KL > 750``, the
tails hold less than ``exp(-750)`` in total, half the smallest subnormal float. Inside, the
pmf is summed with pairwise-blocked cumulative sums, from whichever tail is smaller, so
small probabilities keep their relative accuracy.

The window is about 77 standard deviations wide, so the cost grows like ``sqrt(n p (1-p))``.
Past ``MAX_TERMS`` values (a standard deviation above about 54,000) the pmf is so smooth from
one value to the next that the sum is replaced by its Euler-Maclaurin form: the integral of
the pmf's continuous extension (Gauss-Legendre on quarter standard deviations), plus half
the edge term and a twelfth of its slope. The next correction is below 1e-16 of the result
there, so the cost stays a few thousand pmf values for any n.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from binomial_package._logpmf import (
    FloatArray,
    bd0,
    binomial_logpmf,
    binomial_pmf,
    logpmf_inside,
    split_product,
)

#: The widest window the cdf sums: a standard deviation of about 54,000.
MAX_TERMS = 2**22
_TAIL_EXPONENT = 750.0
_BLOCK = 128


def binomial_cdf(x: FloatArray, n: int, p: float) -> FloatArray:
    """``P(X <= x)`` for X ~ Binomial(n, p) and any real x (NaN not allowed; not checked).

    >>> binomial_cdf(np.array([-1.0, 0.0, 0.5, 1.0, 2.0]), 2, 0.5).tolist()
    [0.0, 0.25, 0.25, 0.75, 1.0]
    """
    k = np.floor(x)
    result = np.where(k >= n, 1.0, 0.0)
    inside = (k >= 0) & (k < n)
    if not inside.any():
        return result
    if p in (0.0, 1.0):  # all the mass at 0 (p = 0) or at n (p = 1)
        result[inside] = 1.0 if p == 0.0 else 0.0
        return result
    low, high = support_window(n, p)
    width = high - low + 1
    if width > MAX_TERMS:
        result[inside] = smooth_cdf(k[inside], n, p, low, high)
        return result
    terms = binomial_pmf(np.arange(low, high + 1, dtype=np.float64), n, p)
    lower = cumulative_sum(terms)  # lower[i] = P(low <= X <= low + i)
    upper = cumulative_sum(terms[::-1])[::-1]  # upper[i] = P(X >= low + i)
    wanted = k[inside]
    index = np.clip(wanted - low, 0, width - 1).astype(np.int64)
    following = np.minimum(index + 1, width - 1)
    from_upper = np.where(index + 1 < width, 1.0 - upper[following], 1.0)
    values = np.where(lower[index] <= 0.5, lower[index], from_upper)
    values = np.where(wanted < low, 0.0, values)
    result[inside] = np.where(wanted >= high, 1.0, values)
    return result


def support_window(n: int, p: float) -> tuple[int, int]:
    """The values ``low..high`` outside which the pmf sums to less than ``exp(-750)``.

    >>> support_window(20, 0.4)
    (0, 20)
    >>> low, high = support_window(10**6, 0.5)
    >>> low > 0 and high < 10**6 and high - low < 80 * 500
    True
    """
    mean = n * p
    low = _first_within(n, p, 0, math.floor(mean), rising=False)
    high = _first_within(n, p, math.ceil(mean), n, rising=True)
    return low, high


def _first_within(n: int, p: float, start: int, stop: int, *, rising: bool) -> int:
    """Bisect ``start..stop`` for the edge of the region where ``n KL(j/n || p) <= 750``.

    The deviance falls towards the mean and rises away from it; ``rising`` says which side
    of the mean ``start..stop`` lies on. Returns the value closest to the far end that is
    still within the bound.
    """
    start, stop = max(start, 0), min(stop, n)
    outer, inner = (stop, start) if rising else (start, stop)
    if _deviance(outer, n, p) <= _TAIL_EXPONENT:
        return outer
    while abs(outer - inner) > 1:  # invariant: outer is beyond the bound, inner within it
        middle = (outer + inner) // 2
        if _deviance(middle, n, p) > _TAIL_EXPONENT:
            outer = middle
        else:
            inner = middle
    return inner


def _deviance(j: int, n: int, p: float) -> float:
    """``n KL(j/n || p) = bd0(j, n p) + bd0(n - j, n q)``, the Chernoff exponent at j."""
    q = 1.0 - p
    total = 0.0
    if j > 0:
        total += float(bd0(np.array([float(j)]), *split_product(n, p))[0])
    else:
        total += n * p
    if j < n:
        total += float(bd0(np.array([float(n - j)]), *split_product(n, q))[0])
    else:
        total += n * q
    return total


def cumulative_sum(values: FloatArray) -> FloatArray:
    """``np.cumsum`` with an error that grows like ``128 + len/128`` roundings, not ``len``.

    Sums run within blocks of 128, then across the block totals (recursively).

    >>> cumulative_sum(np.ones(300))[[0, 127, 128, 299]].tolist()
    [1.0, 128.0, 129.0, 300.0]
    """
    if values.size <= _BLOCK:
        return np.cumsum(values)
    padded = np.zeros(-(-values.size // _BLOCK) * _BLOCK)
    padded[: values.size] = values
    within = np.cumsum(padded.reshape(-1, _BLOCK), axis=1)
    before = np.zeros(within.shape[0])
    before[1:] = cumulative_sum(within[:-1, -1])  # everything in the earlier blocks
    return (within + before[:, None]).reshape(-1)[: values.size]


@functools.cache
def _gauss_legendre() -> tuple[FloatArray, FloatArray]:
    """The 16 Gauss-Legendre nodes and weights on [-1, 1], read-only, on first use.

    Only sums over a standard deviation above about 54,000 need them, and importing
    ``numpy.polynomial`` for them would cost every ``import binomial_package`` milliseconds.
    """
    nodes, weights = np.polynomial.legendre.leggauss(16)
    nodes.flags.writeable = weights.flags.writeable = False
    return nodes, weights


def smooth_cdf(k: FloatArray, n: int, p: float, low: int, high: int) -> FloatArray:
    """``P(X <= k)`` for whole ``k`` when the standard deviation exceeds about 54,000.

    Euler-Maclaurin: ``sum(f(j), j <= k) = integral(f, up to k) + f(k)/2 + f'(k)/12 - ...``
    with ``f`` the pmf's extension to real arguments (Loader's formula holds for them). With
    ``g = (log f)'`` at most 40/sd inside the window, the terms left out are below
    ``g**4 / 720`` of the sum, about 4e-16 at most. Below the mean the lower tail is summed, above
    it the upper tail, so a small probability keeps its relative accuracy.

    ``low..high`` is the :func:`support_window`, some 310 quarter standard deviations wide.

    >>> n = 10**15
    >>> value = smooth_cdf(np.array([n / 2]), n, 0.5, *support_window(n, 0.5))[0]
    >>> bool(abs(value - 0.5) < 1e-7)
    True
    """
    # Positions are offsets from the whole number low, so that no node is rounded to the
    # float spacing of n (0.125 at 10**15), which would shift it by a part in 1e9 of sd.
    sd = math.sqrt(n * p * (1.0 - p))
    step = sd / 4.0
    pieces = math.ceil((high - low) / step)
    edges = step * np.arange(pieces + 1, dtype=np.float64)
    edges[-1] = high - low
    areas = _integral(edges[:-1], edges[1:], low, n, p)
    before = np.concatenate(([0.0], cumulative_sum(areas)))  # area from low to each edge
    after = np.concatenate((cumulative_sum(areas[::-1])[::-1], [0.0]))  # from each edge on
    result = np.empty_like(k)
    below = k < n * p
    lower_k = np.clip(k[below], low, high) - low
    piece = np.clip((lower_k // step).astype(np.int64), 0, pieces - 1)
    area = before[piece] + _integral(edges[piece], lower_k, low, n, p)
    density, slope = _density_and_log_slope(lower_k + low, n, p)
    result[below] = area + density * (0.5 + slope / 12.0)
    upper_k = np.clip(k[~below] + 1.0, low, high) - low
    piece = np.clip((upper_k // step).astype(np.int64), 0, pieces - 1)
    area = _integral(upper_k, edges[piece + 1], low, n, p) + after[piece + 1]
    density, slope = _density_and_log_slope(upper_k + low, n, p)
    result[~below] = 1.0 - (area + density * (0.5 - slope / 12.0))
    return np.clip(result, 0.0, 1.0)


def _integral(start: FloatArray, stop: FloatArray, origin: int, n: int, p: float) -> FloatArray:
    """The integral of the pmf's extension over ``origin + [start, stop]``, by 16-node Gauss-Legendre."""
    nodes, weights = _gauss_legendre()
    half = (stop - start) / 2.0
    offsets = ((start + half)[:, None] + half[:, None] * nodes).reshape(-1)
    whole = np.floor(offsets)
    values = np.exp(logpmf_inside(whole + origin, n, p, offsets - whole))
    area: FloatArray = half * (values.reshape(-1, nodes.size) @ weights)
    return area


def _density_and_log_slope(x: FloatArray, n: int, p: float) -> tuple[FloatArray, FloatArray]:
    """``f(x)`` and ``(log f)'(x) = psi(n - x + 1) - psi(x + 1) + log(p / q)``, x and n - x large."""
    density = np.exp(binomial_logpmf(x, n, p))
    rest = n - x
    # psi(m + 1) = log(m) + 1/(2m) - 1/(12 m**2) + ...: m > 1000 here, so two terms are plenty
    slope = (
        np.log(rest / (n * (1.0 - p)))
        - np.log(x / (n * p))
        + 0.5 / rest
        - 0.5 / x
        - 1.0 / (12.0 * rest * rest)
        + 1.0 / (12.0 * x * x)
    )
    return density, slope
