"""What installing and importing the packages costs: wheel, installed size, import time, memory.

Import times come from ``python -X importtime``, in fresh interpreters started from an empty
folder (so the installed packages are imported, never a source tree), alternating between
the statements, medians over many runs. What a package *adds* to numpy's import is the
cumulative time of the top-level imports that follow ``numpy`` in
``import numpy; import PACKAGE``: the package itself and whatever it pulls in besides numpy.

>>> report = "import time: self [us] | cumulative | imported package\\n"
>>> report += "import time:       100 |        900 | numpy\\n"
>>> report += "import time:        50 |         50 |   numpy.sub\\n"
>>> report += "import time:       300 |       1200 | gan_music\\n"
>>> top_level_imports(report)
[('numpy', 900), ('gan_music', 1200)]
>>> added_after(top_level_imports(report), "numpy")
1200
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

from report import NO_GOAL, Goal, Table

DISTRIBUTION = "binomial-gan-music"
WHEEL_LIMIT = 2 * 2**20
IMPORT_LIMIT_MS = 30.0
MEMORY_LIMIT = 2**30  #: issue 10: the default training run under 1 GB
HEADERS = ["measure", "value", "for comparison"]


def top_level_imports(report: str) -> list[tuple[str, int]]:
    """``(module, cumulative microseconds)`` of each top-level import in an importtime report."""
    found = []
    for line in report.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        _, cumulative, name = line.split("|")
        if name.startswith("  "):  # nested under the import before it
            continue
        found.append((name.strip(), int(cumulative)))
    return found


def added_after(imports: list[tuple[str, int]], first: str) -> int:
    """Microseconds of the top-level imports after ``first``: what the next statement added."""
    names = [name for name, _ in imports]
    start = names.index(first) + 1
    return sum(cumulative for _, cumulative in imports[start:])


def _import_report(statement: str, folder: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stderr


def import_times(runs: int) -> dict[str, float]:
    """Median milliseconds: numpy alone, and what each package adds on top of numpy."""
    statements = {
        "numpy": "import numpy",
        "scipy.stats": "import numpy; import scipy.stats",
        "binomial_package": "import numpy; import binomial_package",
        "gan_music": "import numpy; import gan_music",
    }
    samples: dict[str, list[float]] = {name: [] for name in statements}
    with tempfile.TemporaryDirectory() as folder:
        for statement in statements.values():  # once untimed: fill the OS file cache
            _import_report(statement, folder)
        for _ in range(runs):
            for name, statement in statements.items():
                imports = top_level_imports(_import_report(statement, folder))
                if name == "numpy":
                    microseconds = dict(imports)["numpy"]
                else:
                    microseconds = added_after(imports, "numpy")
                samples[name].append(microseconds / 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def installed_size() -> tuple[int, int]:
    """Bytes and number of files the installed distribution occupies (bytecode included)."""
    files = metadata.distribution(DISTRIBUTION).files or []
    paths = [Path(str(f.locate())) for f in files]
    existing = [path for path in paths if path.is_file()]
    return sum(path.stat().st_size for path in existing), len(existing)


def _size(count: int) -> str:
    return f"{count / 2**20:.2f} MB" if count >= 2**20 else f"{count / 1024:.0f} kB"


def wheel_rows(table: Table, wheel: Path | None) -> None:
    """Wheel size (with or without the shipped model) and the installed size."""
    if wheel is None:
        table.add(["wheel size", "not measured (pass --wheel)", "-"])
    else:
        with zipfile.ZipFile(wheel) as archive:
            names = archive.namelist()
        model = "with the shipped model" if "gan_music/data/model.npz" in names else "no model"
        size = wheel.stat().st_size
        table.add(
            ["wheel size", f"{_size(size)} ({wheel.name}, {len(names)} files, {model})", "-"],
            Goal(
                "< 2 MB",
                size < WHEEL_LIMIT,
                "The wheel holds the chorale data and the model weights; store them compressed.",
            ),
        )
    size, count = installed_size()
    table.add(["installed size", f"{_size(size)} ({count} files, bytecode included)", "-"])


def import_rows(table: Table, runs: int) -> None:
    """numpy's import, and what scipy.stats and each of our packages add to it."""
    times = import_times(runs)
    table.add(["`import numpy`", f"{times['numpy']:.1f} ms", "-"])
    table.add(["`import scipy.stats`, added to numpy's", f"{times['scipy.stats']:.1f} ms", "-"])
    for package in ("binomial_package", "gan_music"):
        added = times[package]
        table.add(
            [
                f"`import {package}`, added to numpy's",
                f"{added:.1f} ms",
                f"scipy.stats adds {times['scipy.stats']:.1f} ms",
            ],
            Goal(
                f"< {IMPORT_LIMIT_MS:.0f} ms",
                added < IMPORT_LIMIT_MS,
                f"`import {package}` adds {added:.1f} ms; `python -X importtime` lists the "
                "modules it loads eagerly.",
            ),
        )
    table.notes.append(
        f"Import times: medians of {runs} fresh interpreters per statement, alternating, "
        "from `python -X importtime` (which itself slows imports a little)."
    )


def memory_row(table: Table, peak_bytes: int | None) -> None:
    """Peak resident memory of the full training run."""
    if peak_bytes is None:
        table.add(["peak memory of the default training run", "skipped (--quick)", "-"], NO_GOAL)
        return
    table.add(
        ["peak memory of the default training run", f"{peak_bytes / 2**20:.0f} MB (peak RSS)", "-"],
        Goal(
            "< 1 GB",
            peak_bytes < MEMORY_LIMIT,
            "The training windows and the one-hot batches are the largest arrays.",
        ),
    )


def run(
    *, wheel: Path | None, peak_bytes: int | None, import_runs: int, echo: bool = False
) -> Table:
    """Every footprint row."""
    table = Table("Footprint", HEADERS, echo=echo)
    wheel_rows(table, wheel)
    import_rows(table, import_runs)
    memory_row(table, peak_bytes)
    return table
