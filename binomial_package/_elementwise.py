"""The ``@elementwise`` decorator: one method body serves scalars and numpy arrays alike.

``pdf``, ``pmf`` and ``cdf`` are written once, for a float64 array. The decorator converts
what the user passed (an int, a float, a numpy scalar, a list or an array of any shape),
rejects what is not a real number, and hands back a Python ``float`` for a scalar and an
array of the same shape for an array, as ``scipy.stats`` does.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias, TypeVar

import numpy as np
from numpy.typing import NDArray

from binomial_package._validation import LARGEST_FLOAT

FloatArray: TypeAlias = NDArray[np.float64]
#: What the scalar form of a method accepts.
Scalar: TypeAlias = "float | np.integer[Any] | np.floating[Any]"
#: What the array form of a method accepts.
ArrayInput: TypeAlias = "NDArray[Any] | Sequence[Any]"

Owner = TypeVar("Owner")
_REAL_KINDS = "iuf"  # signed and unsigned integers, floats


def as_float_array(values: object, name: str) -> tuple[FloatArray, bool]:
    """Return ``(values as a float64 array, whether a scalar was given)``; reject NaN and non-reals.

    >>> as_float_array(3, "x")
    (array(3.), True)
    >>> as_float_array([1, 2], "x")
    (array([1., 2.]), False)
    >>> as_float_array([1.0, float("nan")], "x")
    Traceback (most recent call last):
    ValueError: x must not contain NaN
    """
    if isinstance(values, np.ma.MaskedArray):
        msg = (
            f"{name} must not be a masked array (its mask would be ignored): "
            "pass array.compressed() for the unmasked values"
        )
        raise TypeError(msg)
    scalar = not isinstance(values, (np.ndarray, list, tuple, range))
    if scalar and (isinstance(values, (bool, np.bool_)) or not isinstance(values, numbers.Real)):
        msg = f"{name} must be a real number or an array of them, not {type(values).__name__}"
        raise TypeError(msg)
    if scalar and isinstance(values, int) and abs(values) > LARGEST_FLOAT:
        msg = f"{name} must fit in a float (below about 1.8e308)"
        raise ValueError(msg)
    try:
        array = np.asarray(values)
    except (ValueError, OverflowError) as error:  # ragged lists, ints too big for numpy
        msg = f"{name} must be a real number or a rectangular array of them ({error})"
        raise ValueError(msg) from None
    if array.dtype.kind not in _REAL_KINDS:
        msg = (
            f"{name} must hold real numbers (ints or floats that fit in a float), not {array.dtype}"
        )
        raise TypeError(msg)
    converted = array.astype(np.float64)
    if np.isnan(converted).any():
        msg = f"{name} must not contain NaN" if converted.ndim else f"{name} must not be NaN"
        raise ValueError(msg)
    return converted, scalar


def elementwise(
    name: str,
) -> Callable[[Callable[[Owner, FloatArray], FloatArray]], Callable[..., Any]]:
    """Decorate ``method(self, values: 1-d float64 array) -> same-shape array`` for any real input.

    ``name`` is the argument's name, used in error messages.

    >>> class Doubler:
    ...     @elementwise("x")
    ...     def double(self, x):
    ...         return 2 * x
    >>> Doubler().double(3), Doubler().double([1, 2]).tolist()
    (6.0, [2.0, 4.0])
    """

    def decorate(method: Callable[[Owner, FloatArray], FloatArray]) -> Callable[..., Any]:
        @functools.wraps(method)
        def wrapper(self: Owner, values: Any) -> float | FloatArray:
            array, scalar = as_float_array(values, name)
            with np.errstate(over="ignore", under="ignore"):
                # The method always sees a flat 1-d array: no 0-d special cases inside.
                result = method(self, array.reshape(-1)).reshape(array.shape)
            return float(result[()]) if scalar else result

        return wrapper

    return decorate
