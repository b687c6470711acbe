"""binomial_package: Gaussian and binomial distributions, a drop-in for the course's package.

>>> from binomial_package import Binomial, Gaussian
>>> Gaussian(25, 3) + Gaussian(30, 4)
mean 55, standard deviation 5.0
>>> Binomial(0.4, 20)
mean 8.0, standard deviation 2.1908902300206643, p 0.4, n 20
"""

from __future__ import annotations

from binomial_package.binomial import Binomial
from binomial_package.gaussian import Gaussian
from binomial_package.general import Distribution

__all__ = ["Binomial", "Distribution", "Gaussian", "__version__"]


def __getattr__(name: str) -> str:
    # PEP 562: the version is read from the installed metadata only when asked for,
    # so the import stays fast and pyproject.toml stays the one place that holds it.
    if name == "__version__":
        from importlib.metadata import version

        return version("binomial-gan-music")
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
