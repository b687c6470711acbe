"""The machine's sgemm peak and numpy's BLAS kernel, without and with the caller's OpenBLAS variables.

``OPENBLAS_CORETYPE`` forces OpenBLAS's kernels and ``OPENBLAS_L2_SIZE`` the cache size its
blocking assumes; a user's machine sets neither. ``python -m nox -s bench`` removes both from
the benchmark's environment and hands their values over in ``machine.CALLER_VARIABLES`` (JSON),
so the page can say what the caller had and what difference it makes. Run directly,
``run.py`` keeps its own environment and compares it with one without the variables.

The peak is a 2048 x 2048 float32 matrix product (``2 * 2048**3`` operations) on numpy's
BLAS threads. Each environment is measured in fresh interpreters (OpenBLAS reads the
variables once, when it loads), alternating between the two, several products per
interpreter; each interpreter reports threadpoolctl's kernel and its median, and the row is
the median over the interpreters.

>>> SIZE, FLOPS
(2048, 17179869184)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import machine
from machine import UNSET_VARIABLES, caller_variables, without_variables

SIZE = 2048
FLOPS = 2 * SIZE**3
PRODUCTS_PER_PROBE = 5


@dataclass(frozen=True)
class Peak:
    """sgemm GFLOP/s over fresh interpreters in one environment, and the kernel they reported."""

    variables: dict[str, str]
    kernels: frozenset[str]
    threads: int
    gflops: list[float]

    @property
    def median(self) -> float:
        """The median over the interpreters, GFLOP/s."""
        return statistics.median(self.gflops)

    def describe(self) -> str:
        """``'412 GFLOP/s (range 400-420, 7 interpreters), Haswell kernels, 2 threads'``."""
        return (
            f"{self.median:.0f} GFLOP/s (range {min(self.gflops):.0f}-{max(self.gflops):.0f} "
            f"over {len(self.gflops)} fresh interpreters, {PRODUCTS_PER_PROBE} products each), "
            f"{' / '.join(sorted(self.kernels))} kernels, {self.threads} threads"
        )


def probe() -> dict[str, object]:
    """In this interpreter: threadpoolctl's kernel and the median GFLOP/s of a few products."""
    import numpy as np

    a = np.random.default_rng(0).standard_normal((SIZE, SIZE), dtype=np.float32)
    b = a.T.copy()
    out = np.empty_like(a)
    np.matmul(a, b, out=out)  # warm up: threads started, pages touched
    seconds = []
    for _ in range(PRODUCTS_PER_PROBE):
        started = time.perf_counter()
        np.matmul(a, b, out=out)
        seconds.append(time.perf_counter() - started)
    pool = machine.numpy_blas()
    return {
        "kernel": str(pool.get("architecture", "unknown")),
        "threads": int(pool.get("num_threads", 1)),
        "gflops": FLOPS / statistics.median(seconds) / 1e9,
    }


def _probe_in(env: Mapping[str, str]) -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--probe"],
        env=dict(env),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    result: dict[str, object] = json.loads(completed.stdout)
    return result


def measure_peaks(
    environments: Mapping[str, Mapping[str, str]], rounds: int = 7
) -> dict[str, Peak]:
    """A :class:`Peak` per named environment, interpreters alternating between them."""
    names = list(environments)
    results: dict[str, list[dict[str, object]]] = {name: [] for name in names}
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            results[name].append(_probe_in(environments[name]))
    return {
        name: Peak(
            variables={
                k: environments[name][k] for k in UNSET_VARIABLES if k in environments[name]
            },
            kernels=frozenset(str(r["kernel"]) for r in results[name]),
            threads=max(int(str(r["threads"])) for r in results[name]),
            gflops=[float(str(r["gflops"])) for r in results[name]],
        )
        for name in names
    }


def _assignments(variables: Mapping[str, str]) -> str:
    return " ".join(f"`{k}={v}`" for k, v in variables.items())


def machine_rows(rounds: int = 7) -> tuple[list[tuple[str, str]], Peak]:
    """Rows for the machine table, and the peak of the environment the benchmarks run in."""
    caller = caller_variables()
    clean = without_variables(os.environ)
    environments: dict[str, Mapping[str, str]] = {"without": clean}
    if caller:
        environments["caller"] = {**clean, **caller}
    peaks = measure_peaks(environments, rounds)
    label = f"sgemm peak ({SIZE}x{SIZE} float32 matrix product)"
    own = {k: os.environ[k] for k in UNSET_VARIABLES if k in os.environ}
    if own:
        ran_with = peaks["caller"]
        rows = [(f"{label}, with {_assignments(own)} as this run", ran_with.describe())]
        rows.append((f"{label}, without them (a user's machine)", peaks["without"].describe()))
        return rows, ran_with
    rows = [(label, peaks["without"].describe())]
    if caller:
        forced = peaks["caller"]
        same = forced.kernels == peaks["without"].kernels
        verdict = (
            "threadpoolctl reports the same kernel either way"
            if same
            else "threadpoolctl reports another kernel"
        )
        rows.append(
            (
                f"{label} with the caller's {_assignments(caller)} (removed for this run)",
                f"{forced.describe()}; {verdict}",
            )
        )
    return rows, peaks["without"]


if __name__ == "__main__":
    if sys.argv[1:] == ["--probe"]:
        print(json.dumps(probe()))
    else:
        for key, value in machine_rows()[0]:
            print(f"{key}: {value}")
