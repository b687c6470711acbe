"""Mean and standard deviation of a data list: correctly rounded sums, no overflow, clear errors.

The course package summed with a plain loop, which loses digits on long or badly scaled data
and overflows for values near 1e308. Here sums are exact (``math.fsum``) and the values are
scaled by a power of two first, which changes no digit of the result but keeps every
intermediate finite. Results agree with the course to the last digit on ordinary data.
"""

from __future__ import annotations

import math

from binomial_package._validation import data_values


def checked_data(data: object, *, at_least: int, purpose: str) -> list[float]:
    """The data as floats, after checking it holds ``at_least`` finite numbers.

    >>> checked_data([], at_least=1, purpose="a mean")
    Traceback (most recent call last):
    ValueError: data is empty: a mean needs at least 1 value; read a file or set data first
    >>> checked_data([4], at_least=2, purpose="a sample standard deviation")
    Traceback (most recent call last):
    ValueError: data has only 1 value: a sample standard deviation needs at least 2 values; read a file or set data first
    """
    values = [float(value) for value in data_values(data)]
    if len(values) < at_least:
        found = "is empty" if not values else f"has only {len(values)} value"
        msg = (
            f"data {found}: {purpose} needs at least {at_least} "
            f"value{'s' if at_least > 1 else ''}; read a file or set data first"
        )
        raise ValueError(msg)
    return values


def mean(values: list[float]) -> float:
    """The arithmetic mean of a non-empty list of finite floats, correctly rounded when it can be.

    >>> mean([1.0, 2.0, 4.0])
    2.3333333333333335
    >>> mean([1e308, 1e308])
    1e+308
    """
    try:
        return math.fsum(values) / len(values)
    except OverflowError:  # the sum overflows, the mean cannot: sum halves of a smaller scale
        shift = len(values).bit_length()
        scaled_sum = math.fsum(math.ldexp(value, -shift) for value in values)
        return math.ldexp(scaled_sum / len(values), shift)


def stdev(values: list[float], *, sample: bool) -> float:
    """Standard deviation about the mean, dividing by n - 1 (``sample``) or n.

    >>> stdev([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], sample=False)
    2.0
    """
    centre = mean(values)
    deviations = [value - centre for value in values]
    scale = 1.0
    if any(math.isinf(deviation) for deviation in deviations):
        deviations = [value / 2 - centre / 2 for value in values]
        scale = 2.0
    largest = max(abs(deviation) for deviation in deviations)
    if largest == 0:
        return 0.0
    # Scale the deviations to below 1 by a power of two: exact, and no square can overflow.
    exponent = math.frexp(largest)[1]
    squares = math.fsum(math.ldexp(deviation, -exponent) ** 2 for deviation in deviations)
    divisor = len(values) - 1 if sample else len(values)
    try:
        return math.ldexp(math.sqrt(squares / divisor) * scale, exponent)
    except OverflowError:
        msg = "data values are spread too widely: their standard deviation exceeds the float range"
        raise ValueError(msg) from None
