"""What the benchmarks ran on: processor, cores, Python, numpy and its BLAS, PyTorch, threads.

>>> facts = dict(describe())
>>> "CPU" in facts and "Python" in facts
True
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

#: Environment variables that change how fast numpy's BLAS runs; recorded, never changed.
BLAS_VARIABLES = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
)
#: Variables a user's machine does not set: ``nox -s bench`` runs the benchmarks without them.
UNSET_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
#: Where ``nox -s bench`` hands over the values of :data:`UNSET_VARIABLES` it removed (JSON).
CALLER_VARIABLES = "BENCH_CALLER_OPENBLAS_VARIABLES"


def without_variables(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without :data:`UNSET_VARIABLES`.

    >>> without_variables({"PATH": "/bin", "OPENBLAS_CORETYPE": "Haswell"})
    {'PATH': '/bin'}
    """
    return {k: v for k, v in env.items() if k not in UNSET_VARIABLES}


def caller_variables() -> dict[str, str]:
    """The :data:`UNSET_VARIABLES` of whoever started the benchmarks, with their values.

    From :data:`CALLER_VARIABLES` when ``nox -s bench`` removed them, else this process's own.
    """
    passed = os.environ.get(CALLER_VARIABLES)
    if passed is not None:
        values: dict[str, str] = json.loads(passed)
        return values
    return {k: os.environ[k] for k in UNSET_VARIABLES if k in os.environ}


def cpu_model() -> str:
    """The processor's name as the kernel reports it."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def numpy_blas() -> dict[str, Any]:
    """threadpoolctl's record of the BLAS library numpy itself loaded (not scipy's copy)."""
    import numpy as np  # noqa: F401 (loads the BLAS library that threadpoolctl inspects)
    from threadpoolctl import threadpool_info  # type: ignore[import-untyped]

    pools: list[dict[str, Any]] = [
        pool for pool in threadpool_info() if pool.get("user_api") == "blas"
    ]
    for pool in pools:
        if "numpy" in str(pool.get("filepath", "")):
            return pool
    return pools[0] if pools else {}


def blas_threads() -> int:
    """How many threads numpy's BLAS uses, 1 if threadpoolctl finds none."""
    return int(numpy_blas().get("num_threads", 1))


def _blas() -> str:
    pool = numpy_blas()
    if not pool:
        return "none found"
    forced = os.environ.get("OPENBLAS_CORETYPE")
    chosen = (
        f"forced by OPENBLAS_CORETYPE={forced}"
        if forced
        else "OpenBLAS's own choice for this CPU, OPENBLAS_CORETYPE not set"
    )
    return (
        f"{pool.get('internal_api')} {pool.get('version')}, {pool.get('architecture')} kernels "
        f"({chosen}), {pool.get('num_threads')} threads, {pool.get('threading_layer')} "
        f"(`{Path(pool.get('filepath', '')).name}`)"
    )


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _memory() -> str:
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    return "unknown"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: how busy the machine was."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1, 5, 15 min)"


def _torch() -> str:
    try:
        import torch
    except ImportError:
        return "not installed"
    return (
        f"{torch.__version__}, {torch.get_num_threads()} intra-op threads, "
        f"{torch.get_num_interop_threads()} inter-op threads"
    )


def _where(package: str) -> str:
    module = sys.modules.get(package) or __import__(package)
    folder = Path(module.__file__ or "").parent
    return "the installed wheel" if "site-packages" in folder.parts else f"the source tree {folder}"


def _busy_seconds() -> float | None:
    """CPU seconds all processes have used since boot (``/proc/stat``), or None off Linux."""
    stat = Path("/proc/stat")
    if not stat.exists():
        return None
    fields = [int(v) for v in stat.read_text(encoding="utf-8").splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


class CpuMeter:
    """How much CPU other processes took while the benchmarks ran: a shared machine's noise."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.busy = _busy_seconds()
        self.own = _own_seconds()

    def others(self) -> str:
        """The other processes' share of the machine's CPU time since this meter started."""
        busy = _busy_seconds()
        if busy is None or self.busy is None:
            return "unknown"
        wall = time.perf_counter() - self.wall
        capacity = wall * (os.cpu_count() or 1)
        other = max(0.0, (busy - self.busy) - (_own_seconds() - self.own))
        return (
            f"{other:.0f} CPU seconds in {wall:.0f} s, {100 * other / capacity:.0f}% of the "
            "machine (timings are only comparable when this is near 0)"
        )


def describe() -> list[tuple[str, str]]:
    """``(what, value)`` pairs for the report's machine table."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    facts = [
        ("CPU", cpu_model()),
        ("cores", f"{os.cpu_count()} logical, {usable} usable by this process"),
        ("memory", _memory()),
        ("load average at start", load_average()),
        ("OS", platform.platform()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("numpy", _version("numpy")),
        ("numpy's BLAS (threadpoolctl)", _blas()),
        ("scipy", _version("scipy")),
        ("PyTorch", _torch()),
        ("binomial-gan-music", f"{_version('binomial-gan-music')}, from {_where('gan_music')}"),
    ]
    removed = json.loads(os.environ[CALLER_VARIABLES]) if CALLER_VARIABLES in os.environ else None
    for variable in BLAS_VARIABLES:
        value = os.environ.get(variable, "not set")
        if removed is not None and variable in UNSET_VARIABLES and variable not in os.environ:
            value += (
                f" (`nox -s bench` removed the caller's `{removed[variable]}`)"
                if variable in removed
                else " (nor in the caller's environment)"
            )
        facts.append((variable, value))
    return facts
