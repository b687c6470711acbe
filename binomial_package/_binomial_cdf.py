"""The binomial cdf by exact summation of the pmf over the values that matter.

Terms far in the tails are below the smallest float, so they cannot change a double result.
Chernoff's bound ``P(X <= j) <= exp(-n KL(j/n || p))`` (for j below the mean, and its mirror
above) says exactly where that happens: outside ``[low, high]``, where ``n KL > 750``, the
tails hold less than ``exp(-750)`` in total, half the smallest subnormal float. Inside, the
pmf is summed with pairwise-blocked cumulative sums, from whichever tail is smaller, so
small probabilities keep their relative accuracy.

The window is about 77 standard deviations wide, so the cost grows like ``sqrt(n p (1-p))``;
past ``MAX_TERMS`` values the cdf refuses rather than take minutes or gigabytes.
"""

from __future__ import annotations

import math

import numpy as np

from binomial_package._logpmf import FloatArray, bd0, binomial_pmf, split_product

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
        msg = (
            f"cdf would sum {width:,} pmf terms for n={n}, p={p} (limit {MAX_TERMS:,}); "
            "for n*p*(1-p) this large, use the normal approximation Gaussian(n*p, sd)"
        )
        raise ValueError(msg)
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
