"""The binomial log-pmf, accurate for any n: Loader's saddle-point form, vectorised with numpy.

The textbook formula ``n! / (k! (n-k)!) * p**k * q**(n-k)`` overflows from n = 1030 and loses
all accuracy long before: it divides huge numbers and multiplies tiny ones. Catherine Loader
("Fast and accurate computation of binomial probabilities", 2000; the method behind R's
``dbinom``) rewrites the log-pmf as a sum of small, well-conditioned terms::

    log pmf(k) = stirlerr(n) - stirlerr(k) - stirlerr(n-k)
                 - bd0(k, n p) - bd0(n-k, n q) - log(2 pi k (n-k) / n) / 2

where ``stirlerr(m) = log(m!) - log(sqrt(2 pi m) (m/e)**m)`` is the error of Stirling's formula
(about 1/(12 m)), and ``bd0(x, M) = x log(x/M) + M - x`` is the deviance, computed by a series
when x is close to M so that no large terms cancel. Every term is either small or exact, so
the result keeps about 15 significant digits for any n up to 2**53, and each value costs the
same whatever n is.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

# log(sqrt(2 pi)) to 30 digits; as a Decimal for the exact table, as a float for the rest.
_LN_SQRT_2PI_TEXT = "0.918938533204672741780329736406"
LN_SQRT_2PI = float(_LN_SQRT_2PI_TEXT)

# Below this, stirlerr comes from a table computed exactly; above, from its asymptotic series
# 1/(12 m) - 1/(360 m^3) + 1/(1260 m^5) - 1/(1680 m^7) + 1/(1188 m^9), whose first omitted
# term is below 1e-16 of the result from m = 16 on.
_TABLE_SIZE = 16


def _exact_stirlerr(m: int) -> float:
    """stirlerr(m) for a positive integer m, from 40-digit decimal logarithms."""
    from decimal import Decimal, localcontext

    with localcontext() as context:
        context.prec = 40
        big = Decimal(m)
        value = (
            Decimal(math.factorial(m)).ln()
            - (big + Decimal("0.5")) * big.ln()
            + big
            - Decimal(_LN_SQRT_2PI_TEXT)
        )
    return float(value)


@functools.cache
def _stirlerr_table() -> FloatArray:
    """stirlerr(0..15), read-only; built on first use, as 40-digit decimals take milliseconds.

    Index 0 is never used (k = 0 and k = n are handled without stirlerr); 0.0 keeps it harmless.
    """
    table = np.array([0.0] + [_exact_stirlerr(m) for m in range(1, _TABLE_SIZE)])
    table.flags.writeable = False
    return table


def stirlerr(m: FloatArray) -> FloatArray:
    """``log(m!) - log(sqrt(2 pi m) (m/e)**m)`` for whole numbers ``m >= 1``, elementwise.

    >>> abs(float(stirlerr(np.array([1.0]))[0]) - (1 - 0.5 * math.log(2 * math.pi))) < 1e-16
    True
    >>> round(float(stirlerr(np.array([1e6]))[0]) * 12e6, 12)
    1.0
    """
    small = m < _TABLE_SIZE
    result = np.empty_like(m)
    result[small] = _stirlerr_table()[m[small].astype(np.int64)]
    big = m[~small]
    inv_square = 1.0 / (big * big)
    series = (1 / 1188) * inv_square - 1 / 1680
    series = series * inv_square + 1 / 1260
    series = series * inv_square - 1 / 360
    series = series * inv_square + 1 / 12
    result[~small] = series / big
    return result


def split_product(a: float, b: float) -> tuple[float, float]:
    """``a * b`` as an unevaluated sum ``hi + lo`` that is exact (Dekker's two-product).

    For large n the mean ``n p`` must be known beyond double precision: an error of one part in
    1e16 in it shifts the log-pmf by about ``(k - n p) * 1e-16``, which is 1e-11 at n = 10**7.

    >>> hi, lo = split_product(10**7, 0.4)
    >>> from fractions import Fraction
    >>> Fraction(hi) + Fraction(lo) == 10**7 * Fraction(0.4)
    True
    """
    product = a * b
    a_hi, a_lo = _split(a)
    b_hi, b_lo = _split(b)
    error = ((a_hi * b_hi - product) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    return product, error


def _split(a: float) -> tuple[float, float]:
    """Veltkamp's split of ``a`` into two halves of 26 significant bits each."""
    scaled = 134217729.0 * a  # 2**27 + 1
    hi = scaled - (scaled - a)
    return hi, a - hi


def bd0(
    x: FloatArray, mean_hi: float, mean_lo: float = 0.0, shift: FloatArray | float = 0.0
) -> FloatArray:
    """The deviance ``x log(x/mean) + mean - x`` for ``x > 0`` and ``mean = mean_hi + mean_lo > 0``.

    Where the two large terms nearly cancel, Loader's series in ``v = (x - mean) / (x + mean)``
    replaces them: its terms are all small. Loader switches to it for ``|v| < 0.1``; here it is
    used up to ``|v| < 0.5`` (about 28 terms), because at 0.1 the direct formula still loses
    about a digit, which is 1e-12 of the pmf once the mean is in the tens of thousands.
    Beyond 0.5 (x below a third or above three times the mean) the direct formula is exact
    to a few rounding errors. The point is ``x + shift``: a whole ``x`` and a small ``shift``
    give ``x + shift - mean`` exactly where the float ``x + shift`` would be rounded.

    >>> bd0(np.array([5.0, 50.0]), 5.0).tolist() == [0.0, 50 * math.log(10) - 45]
    True
    """
    diff = ((x - mean_hi) - mean_lo) + shift
    x = x + shift
    total = x + mean_hi
    result = np.empty_like(x)
    near = np.abs(diff) < 0.5 * total
    far = ~near
    result[far] = x[far] * _log_ratio(x[far], mean_hi) - diff[far]
    result[near] = _bd0_series(x[near], diff[near], total[near])
    return result


#: Below this mean, ``x / mean`` can overflow for x up to 10**15 (it is about 1e-294 then):
#: the log of the ratio is taken as a difference of logs instead.
_TINY_MEAN = 1e-290


def _log_ratio(x: FloatArray, mean: float) -> FloatArray:
    """``log(x / mean)`` without overflow when ``mean`` is subnormal or nearly so."""
    if mean < _TINY_MEAN:
        difference: FloatArray = np.log(x) - math.log(mean)
        return difference
    ratio: FloatArray = np.log(x / mean)
    return ratio


def _bd0_series(x: FloatArray, diff: FloatArray, total: FloatArray) -> FloatArray:
    """Loader's series ``(x - mean) v + 2 x (v**3/3 + v**5/5 + ...)``, in Horner form.

    ``|v| < 0.5`` here, so ``w = v**2 < 1/4``. The number of terms comes from the largest
    ``w``: enough that the first one left out is below half the last bit of every result,
    so the loop needs no convergence test (which cost more than the terms themselves).
    """
    v = diff / total
    w = v * v
    largest = float(w.max()) if w.size else 0.0
    leading = diff * v
    if largest == 0.0:
        return leading
    terms = max(1, math.ceil(_SERIES_BITS * math.log(2.0) / -math.log(largest)))
    horner = np.full_like(w, 1.0 / (2 * terms + 1))  # sum of w**i / (2 i + 3), i < terms
    for i in range(terms - 2, -1, -1):
        horner *= w
        horner += 1.0 / (2 * i + 3)
    horner *= 2.0 * x * v * w
    horner += leading
    return horner


# Terms of the bd0 series are kept while w**i exceeds 2**-54 (half a unit in the last place).
_SERIES_BITS = 54


def _stirlerr_scalar(m: float) -> float:
    """:func:`stirlerr` for one whole number ``m >= 1``, in plain floats."""
    if m < _TABLE_SIZE:
        return float(_stirlerr_table()[int(m)])
    inv_square = 1.0 / (m * m)
    series = (1 / 1188) * inv_square - 1 / 1680
    series = series * inv_square + 1 / 1260
    series = series * inv_square - 1 / 360
    series = series * inv_square + 1 / 12
    return series / m


def _bd0_scalar(x: float, mean_hi: float, mean_lo: float) -> float:
    """:func:`bd0` for one value, in plain floats (the same formulas and switch)."""
    diff = (x - mean_hi) - mean_lo
    total = x + mean_hi
    if abs(diff) >= 0.5 * total:
        if mean_hi < _TINY_MEAN:
            return x * (math.log(x) - math.log(mean_hi)) - diff
        return x * math.log(x / mean_hi) - diff
    v = diff / total
    series = diff * v
    term = 2.0 * x * v
    w = v * v
    odd = 3.0
    while True:
        term *= w
        updated = series + term / odd
        if updated == series:
            return series
        series = updated
        odd += 2.0


def binomial_logpmf_scalar(k: float, n: int, p: float) -> float:
    """:func:`binomial_logpmf` for one ``k``, without numpy: a tenth of the array path's time.

    >>> math.exp(binomial_logpmf_scalar(5.0, 20, 0.4))  # doctest: +ELLIPSIS
    0.07464...
    """
    if p in (0.0, 1.0):
        return 0.0 if k == (0 if p == 0.0 else n) else -math.inf
    if k == 0:
        return n * math.log1p(-p)
    if k == n:
        return n * math.log(p)
    q_hi = 1.0 - p
    q_lo = (1.0 - q_hi) - p
    mean_hi, mean_lo = split_product(n, p)
    fail_hi, fail_lo = split_product(n, q_hi)
    fail_lo += n * q_lo
    rest = n - k
    log_ratio = (
        _stirlerr_scalar(float(n))
        - _stirlerr_scalar(k)
        - _stirlerr_scalar(rest)
        - _bd0_scalar(k, mean_hi, mean_lo)
        - _bd0_scalar(rest, fail_hi, fail_lo)
    )
    log_width = 2 * LN_SQRT_2PI + math.log(k) + math.log(rest / n)
    return log_ratio - 0.5 * log_width


def binomial_logpmf(k: FloatArray, n: int, p: float) -> FloatArray:
    """``log P(X = k)`` for X ~ Binomial(n, p), for whole numbers ``0 <= k <= n`` (not checked).

    ``p`` of exactly 0 or 1 gives the exact point mass (``-inf`` elsewhere).

    >>> math.exp(float(binomial_logpmf(np.array([5.0]), 20, 0.4)[0]))  # doctest: +ELLIPSIS
    0.07464...
    """
    if p in (0.0, 1.0):
        certain = 0 if p == 0.0 else n
        return np.where(k == certain, 0.0, -np.inf)
    result = np.empty_like(k)
    at_zero = k == 0
    at_n = k == n
    result[at_zero] = n * math.log1p(-p)
    result[at_n] = n * math.log(p)
    inside = ~(at_zero | at_n)
    if inside.any():  # n = 0 has no inside point, and its mean of 0 has no logarithm
        result[inside] = logpmf_inside(k[inside], n, p)
    return result


def logpmf_inside(x: FloatArray, n: int, p: float, shift: FloatArray | float = 0.0) -> FloatArray:
    """Loader's log-pmf at ``x + shift``, ``0 < x + shift < n``, ``0 < p < 1``: also for real points.

    The formula is that of ``log Gamma``, so it holds between the integers too (for a point
    that is not whole, it and n minus it must be at least 16); a whole ``x`` and a ``shift``
    in [0, 1) place the point exactly where ``x + shift`` as one float could not (its spacing
    is 0.125 at 10**15).

    >>> round(math.exp(float(logpmf_inside(np.array([5.0]), 20, 0.4)[0])), 5)
    0.07465
    """
    q_hi = 1.0 - p
    q_lo = (1.0 - q_hi) - p  # the rounding error of q_hi, exactly: 1 - p == q_hi + q_lo
    mean_hi, mean_lo = split_product(n, p)
    fail_hi, fail_lo = split_product(n, q_hi)
    fail_lo += n * q_lo
    rest = n - x
    point = x + shift
    rest_point = rest - shift
    log_ratio = (
        stirlerr(np.array([float(n)]))[0]
        - stirlerr(point)
        - stirlerr(rest_point)
        - bd0(x, mean_hi, mean_lo, shift)
        - bd0(rest, fail_hi, fail_lo, -shift)
    )
    # log((n - x) / n), not log1p(-x / n): near x = n, x / n has already lost the digits
    # of 1 - x / n (at n = 10**12, x = n - 1, it is off by 1e-4 of itself).
    log_width = 2 * LN_SQRT_2PI + np.log(point) + np.log(rest_point / n)
    result: FloatArray = log_ratio - 0.5 * log_width
    return result


# Hoeffding's bound P(X = k) <= exp(-2 (k - n p)**2 / n): past this exponent the pmf is below
# half the smallest subnormal float (exp(-745.13)), so its correctly rounded value is 0.0.
_UNDERFLOW_EXPONENT = 750.0


def binomial_pmf(k: FloatArray, n: int, p: float) -> FloatArray:
    """``P(X = k)`` for X ~ Binomial(n, p), for whole numbers ``0 <= k <= n`` (not checked).

    Values that are certain to underflow are set to 0.0 without computing them, so the whole
    pmf over 0..n costs time in proportion to ``sqrt(n)``, not n, for large n.

    >>> binomial_pmf(np.array([0.0, 1.0, 2.0, 9.0]), 10**6, 0.5).tolist()
    [0.0, 0.0, 0.0, 0.0]
    >>> binomial_pmf(np.array([0.0, 1.0, 2.0]), 2, 0.5).round(15).tolist()
    [0.25, 0.5, 0.25]
    """
    if k.size > 1 and n <= TABLE_MAX_N and 0.0 < p < 1.0:  # small n: a table is cheaper
        return pmf_table(n, p)[k.astype(np.intp)]
    if k.size == 1:  # one value: plain floats, no array machinery
        value = float(k.flat[0])
        if 2.0 * (value - n * p) ** 2 > _UNDERFLOW_EXPONENT * n:
            return np.zeros_like(k)
        return np.full_like(k, math.exp(binomial_logpmf_scalar(value, n, p)))
    result = np.zeros_like(k)
    needed = 2.0 * (k - n * p) ** 2 <= _UNDERFLOW_EXPONENT * n
    result[needed] = np.exp(binomial_logpmf(k[needed], n, p))
    return result


#: Up to this n, :func:`binomial_pmf` of several values reads them from :func:`pmf_table`.
#: Each step of the table adds at most about 4 rounding errors (4.4e-16 relative), so 1000
#: steps from the mode stay within 5e-13 of the exact value.
TABLE_MAX_N = 1000


def pmf_table(n: int, p: float) -> FloatArray:
    """``P(X = j)`` for every j in 0..n, ``0 < p < 1``: outward from the mode by neighbour ratios.

    ``P(j) / P(j - 1) = (n - j + 1) / j * p / (1 - p)``, multiplied up from the mode with one
    ``cumprod`` each way, then divided by the total so the table sums to 1. Away from the mode
    every ratio is below 1, so nothing overflows and a value underflows only where the pmf does.

    >>> pmf_table(4, 0.5).tolist()
    [0.0625, 0.25, 0.375, 0.25, 0.0625]
    """
    mode = min(n, math.floor((n + 1) * p))
    odds = p / (1.0 - p)
    table = np.empty(n + 1)
    table[mode] = 1.0
    above = np.arange(mode + 1, n + 1, dtype=np.float64)
    table[mode + 1 :] = np.cumprod((n - above + 1) / above * odds)
    if mode > 0:
        below = np.arange(mode, 0, -1, dtype=np.float64)  # P(j - 1) from P(j), j = mode .. 1
        table[mode - 1 :: -1] = np.cumprod(below / ((n - below + 1) * odds))
    table /= table.sum()
    return table
