"""Drop-in for the course module ``distributions.Binomialdistribution``: re-exports ``Binomial``.

Old imports keep working; new code can write ``from binomial_package import Binomial``.

>>> from binomial_package.Binomialdistribution import Binomial
>>> Binomial is __import__("binomial_package").Binomial
True
"""

# The course's module name, kept on purpose for old imports (ruff: not snake_case).
# ruff: noqa: N999

from __future__ import annotations

from binomial_package.binomial import Binomial

__all__ = ["Binomial"]
