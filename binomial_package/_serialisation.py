"""``DictSerialisable``: ``to_dict`` and ``from_dict`` for any class that lists its fields.

A plain dict of numbers and lists is what ``json``, ``tomllib``-style configs and databases
understand, and it is safe to load (unlike ``pickle``, which can run code). The mixin holds
the checks every such loader needs, so each distribution only names its fields: the
``"type"`` tag must match the class, unknown keys are refused (a typo is not silently
ignored), required keys must be present, and each value goes through the class's own
validated attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from binomial_package._validation import shown

if TYPE_CHECKING:
    from typing_extensions import Self


class DictSerialisable:
    """Mixin: ``to_dict()`` and ``from_dict(mapping)`` over the fields a class names.

    A class sets ``_dict_required`` (fields a dict must give) and ``_dict_optional``
    (fields it may give); ``from_dict`` starts from the class's no-argument constructor,
    assigns the given fields in that order, then calls ``_after_from_dict`` so the class
    can fill in what was left out.

    >>> class Point(DictSerialisable):
    ...     _dict_required = ("x",)
    ...     def __init__(self):
    ...         self.x = 0
    >>> Point.from_dict({"type": "Point", "x": 3}).to_dict()
    {'type': 'Point', 'x': 3}
    >>> Point.from_dict({"type": "Point", "x": 3, "y": 4})
    Traceback (most recent call last):
    ValueError: Point.from_dict: unknown key(s) 'y'; allowed: 'type', 'x'
    """

    __slots__ = ()
    _dict_required: ClassVar[tuple[str, ...]] = ()
    _dict_optional: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        """This object as a dict of plain numbers and lists, tagged with its class name."""
        result: dict[str, Any] = {"type": type(self).__name__}
        for name in self._dict_required + self._dict_optional:
            value = getattr(self, name)
            result[name] = list(value) if isinstance(value, list) else value
        return result

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any]) -> Self:
        """Rebuild an object from the output of :meth:`to_dict`, checking every value."""
        where = f"{cls.__name__}.from_dict"
        given: object = mapping  # checked at run time too: callers may not use a type checker
        if not isinstance(given, Mapping):
            msg = f"{where}: expected a dict, not {type(given).__name__}"
            raise TypeError(msg)
        tag = mapping.get("type")
        if not isinstance(tag, str) or tag != cls.__name__:
            msg = f"{where}: 'type' must be {cls.__name__!r}, got {shown(tag)}"
            raise ValueError(msg)
        fields = cls._dict_required + cls._dict_optional
        unknown = sorted(shown(key) for key in mapping if key != "type" and key not in fields)
        if unknown:
            allowed = ", ".join(repr(name) for name in ("type", *fields))
            msg = f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {allowed}"
            raise ValueError(msg)
        missing = [repr(name) for name in cls._dict_required if name not in mapping]
        if missing:
            msg = f"{where}: missing key(s) {', '.join(missing)}"
            raise ValueError(msg)
        instance = cls()
        for name in fields:
            if name in mapping:
                setattr(instance, name, mapping[name])
        instance._after_from_dict(frozenset(name for name in fields if name in mapping))
        return instance

    def _after_from_dict(self, given: frozenset[str]) -> None:
        """Hook: complete an object whose dict left out some optional fields."""
