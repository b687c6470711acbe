"""Drop-in for the course module ``distributions.Gaussiandistribution``: re-exports ``Gaussian``.

Old imports keep working; new code can write ``from binomial_package import Gaussian``.

>>> from binomial_package.Gaussiandistribution import Gaussian
>>> Gaussian is __import__("binomial_package").Gaussian
True
"""

# The course's module name, kept on purpose for old imports (ruff: not snake_case).
# ruff: noqa: N999

from __future__ import annotations

from binomial_package.gaussian import Gaussian

__all__ = ["Gaussian"]
