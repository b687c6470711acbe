"""Checks on user input: each returns the value in its canonical form or raises a clear error.

Every message names the argument and what is allowed, in one line. Wrong kinds of value
(a string, a bool, a complex number) raise ``TypeError``; right kinds with wrong values (NaN,
a negative count, a probability of 2) raise ``ValueError``. Nothing here uses ``assert``,
so the checks hold under ``python -O`` too.

Numbers keep their Python type where the course package showed it (``Gaussian(25, 3)`` prints
``mean 25``, not ``mean 25.0``); numpy scalars become the matching Python number.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Callable, Iterable, Mapping, MappingView
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Generic, SupportsIndex, TypeVar, overload

import numpy as np

if TYPE_CHECKING:
    from typing_extensions import Self

T = TypeVar("T")

#: The largest number of trials a Binomial accepts: every count up to it is exact as a float.
MAX_TRIALS = 10**15
#: The most draws one call to ``sample`` makes: 8 GB of float64 already.
MAX_DRAWS = 10**9
#: The largest finite float, as an exact integer: larger ints cannot become floats.
LARGEST_FLOAT = int(sys.float_info.max)


def shown(value: object, width: int = 40) -> str:
    """``repr(value)`` on one line, cut to ``width`` characters, for error messages.

    >>> import numpy
    >>> shown(numpy.zeros((2, 1)))
    'array([[0.], [0.]])'
    >>> shown(list(range(100)), 12)
    '[0, 1, 2,...'
    """
    text = " ".join(repr(value).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def real_number(value: object, name: str) -> int | float:
    """Return ``value`` as a Python int or float; reject bools, non-numbers and NaN.

    >>> real_number(3, "mu"), real_number(np.float64(0.5), "p")
    (3, 0.5)
    >>> real_number("3", "mu")
    Traceback (most recent call last):
    TypeError: mu must be a real number (int or float), not str
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        msg = f"{name} must be a real number (int or float), not {type(value).__name__}"
        raise TypeError(msg)
    number: int | float = int(value) if isinstance(value, numbers.Integral) else float(value)
    if isinstance(number, float) and math.isnan(number):
        msg = f"{name} must be a number, not NaN"
        raise ValueError(msg)
    return number


def finite_number(value: object, name: str) -> int | float:
    """A real number that is finite and fits in a float.

    >>> finite_number(float("inf"), "mu")
    Traceback (most recent call last):
    ValueError: mu must be finite, got inf
    """
    number = real_number(value, name)
    if isinstance(number, int):
        if abs(number) > LARGEST_FLOAT:
            size = f"an integer of {abs(number).bit_length()} bits"
            msg = f"{name} must fit in a float (below about 1.8e308), got {size}"
            raise ValueError(msg)
    elif not math.isfinite(number):
        msg = f"{name} must be finite, got {number}"
        raise ValueError(msg)
    return number


def standard_deviation(value: object, name: str) -> int | float:
    """A finite number >= 0. Zero is allowed (a point mass), as in ``statistics.NormalDist``.

    >>> standard_deviation(-1, "sigma")
    Traceback (most recent call last):
    ValueError: sigma must be >= 0 (a standard deviation), got -1
    """
    number = finite_number(value, name)
    if number < 0:
        msg = f"{name} must be >= 0 (a standard deviation), got {number}"
        raise ValueError(msg)
    return number


def probability(value: object, name: str) -> int | float:
    """A number in [0, 1].

    >>> probability(1.5, "p")
    Traceback (most recent call last):
    ValueError: p must be a probability in [0, 1], got 1.5
    """
    number = real_number(value, name)
    if not 0 <= number <= 1:
        msg = f"{name} must be a probability in [0, 1], got {number}"
        raise ValueError(msg)
    return number


def whole_number(value: object, name: str, low: int, high: int) -> int:
    """An integer in ``low..high``; a float that is a whole number (``20.0``) is accepted.

    >>> whole_number(20.0, "n", 0, 100)
    20
    >>> whole_number(2.5, "n", 0, 100)
    Traceback (most recent call last):
    ValueError: n must be a whole number in 0..100, got 2.5
    """
    number = real_number(value, name)
    if isinstance(number, float):
        if not number.is_integer():
            msg = f"{name} must be a whole number in {low}..{high}, got {number}"
            raise ValueError(msg)
        number = int(number)
    if not low <= number <= high:
        msg = f"{name} must be a whole number in {low}..{high}, got {number}"
        raise ValueError(msg)
    return number


def trials(value: object, name: str) -> int:
    """A number of trials: a whole number in 0..10**15."""
    return whole_number(value, name, 0, MAX_TRIALS)


def flag(value: object, name: str) -> bool:
    """A bool, a numpy bool, or the int 0 or 1; anything else is refused, not judged by truthiness.

    The course passed ``calculate_stdev(0)`` for the population standard deviation, so the
    ints 0 and 1 (Python's or numpy's) count as False and True. Strings, floats, None and
    other ints are refused: ``"False"`` is truthy, and a guess would be a silent wrong answer.

    >>> flag(0, "sample"), flag(1, "sample"), flag(np.bool_(True), "sample")
    (False, True, True)
    >>> flag("no", "sample")
    Traceback (most recent call last):
    TypeError: sample must be True or False (or 1 or 0), not str
    >>> flag(2, "sample")
    Traceback (most recent call last):
    ValueError: sample must be True or False (or 1 or 0), got 2
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        if value in (0, 1):
            return bool(value)
        msg = f"{name} must be True or False (or 1 or 0), got {int(value)}"
        raise ValueError(msg)
    msg = f"{name} must be True or False (or 1 or 0), not {type(value).__name__}"
    raise TypeError(msg)


def sample_request(size: object, seed: object) -> tuple[int, np.random.Generator]:
    """The number of draws and numpy's random ``Generator`` for ``sample(size, seed)``.

    ``seed`` is anything ``numpy.random.default_rng`` takes: None (fresh entropy), a
    non-negative int, or a ``Generator`` (used as it is).

    >>> sample_request(3, seed=-1)
    Traceback (most recent call last):
    ValueError: seed must be None, a non-negative int or a numpy Generator (got -1)
    >>> sample_request(3, seed=True)
    Traceback (most recent call last):
    TypeError: seed must be None, a non-negative int or a numpy Generator, not True
    """
    count = whole_number(size, "size", 0, MAX_DRAWS)
    if isinstance(seed, (bool, np.bool_)):  # numpy would take True as the seed 1
        msg = f"seed must be None, a non-negative int or a numpy Generator, not {shown(seed)}"
        raise TypeError(msg)
    try:
        generator = np.random.default_rng(seed)  # type: ignore[arg-type]
    except (TypeError, ValueError) as error:
        msg = f"seed must be None, a non-negative int or a numpy Generator (got {shown(seed)})"
        raise type(error)(msg) from None
    return count, generator


def data_values(value: object, name: str = "data") -> DataList:
    """A :class:`DataList` of finite real numbers (numpy numbers become Python numbers).

    The data must come in an order: a list, a tuple, a range, a flat numpy array or an
    iterator. A set or a dict (or its keys or values) is refused, since its order is not the
    data's and a set has already dropped repeated values; so is a masked array, whose mask
    would be lost (pass ``array.compressed()`` to keep only the unmasked values).

    >>> data_values((1, 2.5, np.int64(3)))
    [1, 2.5, 3]
    >>> data_values([1, None])
    Traceback (most recent call last):
    TypeError: data[1] must be a real number (int or float), not NoneType
    >>> data_values({3, 1})
    Traceback (most recent call last):
    TypeError: data must be in order (a list, tuple or array), not set: a set or dict has no order of its own
    """
    if isinstance(value, np.ma.MaskedArray):
        msg = (
            f"{name} must not be a masked array (its mask would be ignored): "
            "pass array.compressed() for the unmasked values"
        )
        raise TypeError(msg)
    if isinstance(value, (AbstractSet, Mapping, MappingView)):
        msg = (
            f"{name} must be in order (a list, tuple or array), not {type(value).__name__}: "
            "a set or dict has no order of its own"
        )
        raise TypeError(msg)
    flat = not isinstance(value, np.ndarray) or value.ndim == 1
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable) or not flat:
        msg = f"{name} must be a flat list of numbers, not {type(value).__name__}"
        raise TypeError(msg)
    return DataList(value, name)


class DataList(list):  # type: ignore[type-arg]
    """A list of finite real numbers that checks every number put into it.

    ``data`` is a plain list in the course (``data.append(5)`` works, and ``data == [1, 2]``
    compares as a list), so it stays a ``list``; but ``append``, ``extend``, ``insert``,
    ``+=``, ``*=`` and item or slice assignment check each new value, so a string or a NaN
    can never get in and break a later calculation or ``to_dict``.

    >>> data = DataList([1, 2])
    >>> data.append(3.5)
    >>> data
    [1, 2, 3.5]
    >>> data.append("x")
    Traceback (most recent call last):
    TypeError: data[3] must be a real number (int or float), not str
    """

    __slots__ = ("_name",)

    def __init__(self, values: Iterable[object] = (), name: str = "data") -> None:
        self._name = name
        super().__init__(self._checked(values, start=0))

    def _checked(self, values: Iterable[object], start: int) -> list[int | float]:
        return [
            finite_number(item, f"{self._name}[{index}]")
            for index, item in enumerate(values, start=start)
        ]

    def append(self, value: object) -> None:
        super().append(finite_number(value, f"{self._name}[{len(self)}]"))

    def extend(self, values: Iterable[object]) -> None:
        super().extend(self._checked(values, start=len(self)))

    def insert(self, index: SupportsIndex, value: object) -> None:
        super().insert(index, finite_number(value, f"{self._name}[{index}]"))

    def __iadd__(self, values: Iterable[object]) -> Self:  # type: ignore[misc]
        self.extend(values)
        return self

    def __setitem__(self, index: SupportsIndex | slice, value: object) -> None:
        if isinstance(index, slice):
            if not isinstance(value, Iterable):
                msg = f"can only assign an iterable of numbers to a slice of {self._name}"
                raise TypeError(msg)
            super().__setitem__(index, self._checked(value, start=index.start or 0))
        else:
            super().__setitem__(index, finite_number(value, f"{self._name}[{index}]"))

    def __reduce__(self) -> tuple[type[DataList], tuple[list[int | float], str]]:
        # Rebuilt through __init__, so a pickle edited to hold a string is refused on loading.
        return type(self), (list(self), self._name)


class Checked(Generic[T]):
    """An attribute that runs a check on every assignment, so no object is ever left invalid.

    The course API lets users assign ``g.mean = ...`` and ``b.p = ...`` directly, and its own
    methods (``replace_stats_with_data``, ``calculate_stdev``) set attributes the same way;
    a checked attribute validates all of them in one place. The value lives in the slot
    ``_<name>`` of the instance.

    >>> class Coin:
    ...     __slots__ = ("_p",)
    ...     p = Checked(probability)
    >>> coin = Coin()
    >>> coin.p = 0.25
    >>> coin.p
    0.25
    >>> coin.p = 2
    Traceback (most recent call last):
    ValueError: p must be a probability in [0, 1], got 2
    """

    def __init__(self, check: Callable[[object, str], T]) -> None:
        self.check = check
        self.name = ""
        self.slot = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.slot = f"_{name}"

    @overload
    def __get__(self, instance: None, owner: type) -> Checked[T]: ...

    @overload
    def __get__(self, instance: object, owner: type) -> T: ...

    def __get__(self, instance: object, owner: type) -> T | Checked[T]:
        if instance is None:
            return self
        value: T = getattr(instance, self.slot)
        return value

    def __set__(self, instance: object, value: object) -> None:
        setattr(instance, self.slot, self.check(value, self.name))
