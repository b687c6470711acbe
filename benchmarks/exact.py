"""Exact reference values from mpmath at 40 digits, to say who is right where two disagree.

The float ``p`` is taken at its exact binary value, so these are the true probabilities of
the distribution both libraries were asked about.

>>> float(binomial_pmf(5, 20, 0.4))  # doctest: +ELLIPSIS
0.0746470195...
>>> round(float(binomial_cdf(1, 2, 0.5)), 15), round(float(binomial_cdf(7, 20, 0.4)), 12)
(0.75, 0.415892937558)
>>> round(float(binomial_cdf(8, 10, 0.3)), 10)  # above the mean: one minus the upper tail
0.9998563141
"""

from __future__ import annotations

import mpmath  # type: ignore[import-untyped]

DIGITS = 40


def binomial_pmf(k: int, n: int, p: float) -> mpmath.mpf:
    """``P(X = k)`` for X ~ Binomial(n, p)."""
    with mpmath.workdps(DIGITS):
        prob = mpmath.mpf(p)
        return mpmath.binomial(n, k) * prob**k * (1 - prob) ** (n - k)


def binomial_cdf(k: int, n: int, p: float) -> mpmath.mpf:
    """``P(X <= k)``, summed from the pmf at k along the shorter tail until terms vanish.

    Below the mean the terms fall going down, so ``P(X <= k)`` is summed down from k;
    above it ``1 - P(X >= k + 1)`` is summed up from k + 1.
    """
    if k >= n:
        return mpmath.mpf(1)
    if k < 0:
        return mpmath.mpf(0)
    with mpmath.workdps(DIGITS + 10):
        prob = mpmath.mpf(p)
        odds = prob / (1 - prob)
        if k <= n * p:
            term = binomial_pmf(k, n, p)
            total, j = term, k
            while j > 0 and term > total * mpmath.mpf(10) ** -(DIGITS + 5):
                term *= j / ((n - j + 1) * odds)  # pmf(j - 1) from pmf(j)
                total += term
                j -= 1
            return +total
        term = binomial_pmf(k + 1, n, p)
        total, j = term, k + 1
        while j < n and term > total * mpmath.mpf(10) ** -(DIGITS + 5):
            term *= (n - j) * odds / (j + 1)  # pmf(j + 1) from pmf(j)
            total += term
            j += 1
        return 1 - total


def normal_pdf(x: float, mu: float, sigma: float) -> mpmath.mpf:
    """The normal density at ``x``."""
    with mpmath.workdps(DIGITS):
        return mpmath.npdf(mpmath.mpf(x), mpmath.mpf(mu), mpmath.mpf(sigma))


def normal_cdf(x: float, mu: float, sigma: float) -> mpmath.mpf:
    """``P(X <= x)`` for the normal distribution."""
    with mpmath.workdps(DIGITS):
        return mpmath.ncdf(mpmath.mpf(x), mpmath.mpf(mu), mpmath.mpf(sigma))


def relative_error(value: float, exact: mpmath.mpf) -> float:
    """``|value - exact| / exact`` (0 where both are 0)."""
    with mpmath.workdps(DIGITS):
        if exact == 0:
            return 0.0 if value == 0 else float("inf")
        return float(abs((mpmath.mpf(value) - exact) / exact))
