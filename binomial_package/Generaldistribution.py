"""Drop-in for the course module ``distributions.Generaldistribution``: re-exports ``Distribution``.

Old imports keep working; new code can write ``from binomial_package import Distribution``.

>>> from binomial_package.Generaldistribution import Distribution
>>> Distribution is __import__("binomial_package").Distribution
True
"""

# The course's module name, kept on purpose for old imports (ruff: not snake_case).
# ruff: noqa: N999

from __future__ import annotations

from binomial_package.general import Distribution

__all__ = ["Distribution"]
