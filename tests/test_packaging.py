"""The tests run against the installed wheel: prove it, and check what the wheel must carry."""

from __future__ import annotations

import importlib
import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["binomial_package", "gan_music"])
def test_package_is_imported_from_the_installed_copy(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    folder = Path(module.__file__).resolve().parent
    assert folder != REPO / name, f"{name} was imported from the source tree, not the wheel"
    assert "site-packages" in folder.parts


@pytest.mark.parametrize("name", ["binomial_package", "gan_music"])
def test_version_matches_installed_metadata(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__version__ == importlib.metadata.version("binomial-gan-music")


@pytest.mark.parametrize("name", ["binomial_package", "gan_music"])
def test_py_typed_marker_is_installed(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert (Path(module.__file__).parent / "py.typed").is_file()


def test_unknown_attribute_still_raises() -> None:
    import gan_music

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = gan_music.nope


def test_import_needs_neither_matplotlib_nor_mido() -> None:
    code = (
        "import sys, binomial_package, gan_music\n"
        "heavy = sorted({'matplotlib', 'mido', 'scipy'} & set(sys.modules))\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_import_binomial_package_builds_its_tables_on_first_use() -> None:
    """decimal (stirlerr's exact table) and numpy.polynomial (Gauss-Legendre) cost milliseconds."""
    code = (
        "import sys, binomial_package\n"
        "tables = {'decimal', 'numpy.polynomial'}\n"
        "assert not tables & set(sys.modules), tables & set(sys.modules)\n"
        "from binomial_package import Binomial\n"
        "assert abs(Binomial(0.5, 10).pdf(3) - 120 / 1024) < 1e-15\n"
        "assert abs(Binomial(0.5, 10**12).cdf(5 * 10**11) - 0.5) < 1e-5\n"
        "assert tables <= set(sys.modules), tables - set(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
