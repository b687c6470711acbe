"""Run the examples in every docstring of both installed packages: documentation that cannot rot."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from types import ModuleType

import pytest

import binomial_package
import gan_music


def _modules(package: ModuleType) -> list[str]:
    names = [package.__name__]
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
        if info.name.endswith("__main__"):
            continue  # running it would run the command line
        names.append(info.name)
    return names


MODULES = _modules(binomial_package) + _modules(gan_music)


def test_both_packages_have_modules_to_check() -> None:
    assert "gan_music.pianoroll" in MODULES
    assert len(MODULES) > 4


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
