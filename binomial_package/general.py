"""``Distribution``: the course's base class, holding a mean, a standard deviation and data."""

from __future__ import annotations

import os
from typing import Any, ClassVar

from binomial_package._datafile import read_numbers
from binomial_package._serialisation import DictSerialisable
from binomial_package._validation import Checked, data_values, finite_number, standard_deviation


class Distribution(DictSerialisable):
    """A distribution with a ``mean``, a standard deviation ``stdev`` and a list of ``data``.

    Every attribute is checked when it is set, so an object can never hold a NaN mean, a
    negative standard deviation or data that are not numbers.

    >>> d = Distribution(10, 2)
    >>> d.mean, d.stdev, d.data
    (10, 2, [])
    >>> d.stdev = -1
    Traceback (most recent call last):
    ValueError: stdev must be >= 0 (a standard deviation), got -1
    """

    __slots__ = ("_data", "_mean", "_stdev")
    _dict_required: ClassVar[tuple[str, ...]] = ("mean", "stdev")
    _dict_optional: ClassVar[tuple[str, ...]] = ("data",)

    mean = Checked(finite_number)
    stdev = Checked(standard_deviation)
    data = Checked(data_values)

    def __init__(self, mu: float = 0, sigma: float = 1) -> None:
        # Checked under the argument names first, so an error names what the caller typed.
        self.mean = finite_number(mu, "mu")
        self.stdev = standard_deviation(sigma, "sigma")
        self.data = []

    def read_data_file(self, file_name: str | os.PathLike[str]) -> None:
        """Read one number per line from a text file into ``data``; change nothing else.

        Integers and decimals, blank lines, ``#`` comments, Windows line endings and a
        UTF-8 byte-order mark are all fine. A bad line raises ``ValueError`` naming the file
        and line; a missing file raises ``FileNotFoundError``. On any error ``data`` is
        left as it was.

        >>> import tempfile, pathlib
        >>> folder = tempfile.TemporaryDirectory()
        >>> path = pathlib.Path(folder.name) / "numbers.txt"
        >>> _ = path.write_text("1\\n3\\n# a comment\\n99.5\\n")
        >>> d = Distribution()
        >>> d.read_data_file(path)
        >>> d.data, d.mean
        ([1, 3, 99.5], 0)
        >>> folder.cleanup()
        """
        self.data = read_numbers(file_name)

    def __repr__(self) -> str:
        return f"mean {self.mean}, standard deviation {self.stdev}"

    def _parameters(self) -> tuple[Any, ...]:
        """The values that define the distribution, compared by ``==``."""
        return (self.mean, self.stdev)

    def __eq__(self, other: object) -> bool:
        """Equal when of the same class with the same parameters; ``data`` is not compared.

        >>> Distribution(1, 2) == Distribution(1.0, 2.0)
        True
        """
        if type(other) is not type(self):
            return NotImplemented
        return self._parameters() == other._parameters()

    def __getstate__(self) -> dict[str, Any]:
        """The fields, for ``pickle`` (every protocol, 0 and 1 included) and ``copy``.

        >>> import pickle
        >>> pickle.loads(pickle.dumps(Distribution(1, 2), protocol=0))
        mean 1, standard deviation 2
        """
        return {name: getattr(self, name) for name in self._dict_required + self._dict_optional}

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Assigned through the checked attributes: a tampered pickle cannot make a NaN mean.
        for name, value in state.items():
            setattr(self, name, value)

    # Mutable (the course API changes mean, stdev, p and n in place), so not hashable,
    # like list: a hash that changes while the object sits in a set or dict breaks both.
    __hash__ = None  # type: ignore[assignment]
