"""binomial_package: Gaussian and binomial distributions, a drop-in for the course's package."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # PEP 562: the version is read from the installed metadata only when asked for,
    # so the import stays fast and pyproject.toml stays the one place that holds it.
    if name == "__version__":
        from importlib.metadata import version

        return version("binomial-gan-music")
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
